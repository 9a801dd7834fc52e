package io.smartsim.launch.batch;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.spi.ModelState;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What every batch scheduler's model launcher does the same way: the model's environment, its owner-only scripts,
 * the run command started on this machine with the model's output files, the allocation it runs in, and what an
 * exit code means. A model is a step or task in an existing allocation, or a batch job of its own.
 */
public final class BatchModels {
    private BatchModels() {
    }

    /** The database's variables ({@code SSDB} and its login), then the model's own, which win. */
    public static Map<String, String> environment(ModelPlan plan, Map<String, String> dbEnv) {
        Map<String, String> out = new LinkedHashMap<>(dbEnv);
        out.putAll(plan.env());
        return out;
    }

    /**
     * Writes a model's script owner-only before anything is in it: it exports the database password, when there is
     * one. {@code what} names it in the error ("batch script").
     */
    public static void writeOwnerOnly(ModelPlan plan, Path script, String text, String what) {
        try {
            Files.deleteIfExists(script);
            Files.createFile(script, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(script, text);
        } catch (IOException e) {
            throw new LaunchException("cannot write the " + what + " of model '" + plan.name() + "' to " + script
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * Starts a model's run command on this machine in its work directory, its output appended to the model's stdout
     * and stderr files, with {@code environment} added; a failure names the argv and asks whether {@code binary} is
     * on PATH.
     */
    public static Process start(ModelPlan plan, List<String> argv, Map<String, String> environment, String binary) {
        ProcessBuilder pb = new ProcessBuilder(argv).directory(plan.workDir().toFile())
                .redirectOutput(ProcessBuilder.Redirect.appendTo(plan.stdout().toFile()))
                .redirectError(ProcessBuilder.Redirect.appendTo(plan.stderr().toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(environment);
        try {
            return pb.start();
        } catch (IOException e) {
            throw new LaunchException("model '" + plan.name() + "' could not start: `" + String.join(" ", argv)
                    + "`: " + e.getMessage() + "; is " + binary + " on PATH?", e);
        }
    }

    /**
     * The existing allocation a model runs in: its {@code run.alloc}, else {@code variable} in {@code env}; otherwise
     * refused naming {@code run.alloc}: the model runs {@code in} ("as a step of an allocation"), and {@code how} to
     * be inside one ("run inside salloc or sbatch").
     */
    public static String allocation(ModelPlan plan, Map<String, String> env, String variable, String in, String how) {
        return plan.run().alloc().or(() -> Optional.ofNullable(env.get(variable)).filter(s -> !s.isBlank()))
                .orElseThrow(() -> new InvalidSpecException("run.alloc", "model '" + plan.name() + "' runs " + in
                        + ", but this process is not inside one (" + variable + " is not set) and no run.alloc is "
                        + "given; " + how + ", give run.alloc: JOBID, or give run.batch to make it a batch job of its "
                        + "own"));
    }

    /**
     * A model's end by its exit code: cancelled when it was stopped on request ({@code stopped} says how), completed
     * on 0, else failed, naming the signal of a code 129-159 (a run command's 128 + the signal).
     */
    public static ModelState ended(boolean cancelled, int code, String stopped) {
        if (cancelled) {
            return new ModelState(EntityStatus.CANCELLED, Optional.of(code), Optional.of(stopped));
        }
        if (code == 0) {
            return new ModelState(EntityStatus.COMPLETED, Optional.of(0), Optional.empty());
        }
        return new ModelState(EntityStatus.FAILED, Optional.of(code), code > 128 && code < 160
                ? Optional.of("killed by signal " + (code - 128)) : Optional.empty());
    }
}
