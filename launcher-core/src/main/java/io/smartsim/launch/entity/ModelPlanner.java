package io.smartsim.launch.entity;

import io.smartsim.launch.InvalidSpecException;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Spec + experiment directory -> plan: paths resolved, {@code ;param;} substituted, config files read and rendered.
 * Reads the config files it is given and writes nothing.
 */
public final class ModelPlanner {
    private ModelPlanner() {
    }

    /** The plan of a model directly under the experiment directory. */
    public static ModelPlan plan(Path expDir, ModelSpec spec) {
        return plan(expDir.resolve(spec.name()), Optional.empty(), spec);
    }

    /** The plans of an ensemble's members, each in {@code <expDir>/<ensemble>/<member>}. */
    public static List<ModelPlan> plan(Path expDir, EnsembleSpec spec) {
        List<ModelPlan> out = new ArrayList<>();
        for (ModelSpec m : spec.members()) {
            out.add(plan(expDir.resolve(spec.name()).resolve(m.name()), Optional.of(spec.name()), m));
        }
        return out;
    }

    private static ModelPlan plan(Path dir, Optional<String> ensemble, ModelSpec spec) {
        Map<String, String> params = spec.params();
        String where = ensemble.map(e -> e + " member " + spec.name()).orElse(spec.name());
        String exe = spec.exe().contains("/") ? spec.baseDir().resolve(spec.exe()).normalize().toString() : spec.exe();
        List<String> args = new ArrayList<>();
        for (String a : spec.args()) {
            args.add(Tags.substitute(a, params, "args (" + where + ")"));
        }
        Map<String, String> env = new LinkedHashMap<>();
        spec.env().forEach((k, v) -> env.put(k, Tags.substitute(v, params, "env." + k + " (" + where + ")")));
        Path workDir = spec.workDir().map(w -> spec.baseDir().resolve(w).normalize()).orElse(dir);
        List<ModelPlan.RenderedFile> files = new ArrayList<>();
        Set<Path> targets = new HashSet<>();
        for (Path f : spec.configFiles()) {
            Path source = spec.baseDir().resolve(f).normalize();
            Path target = dir.resolve(source.getFileName());
            if (!targets.add(target)) {
                throw new InvalidSpecException("configFiles", "two config files are named " + source.getFileName()
                        + " and would both be written to " + target + "; rename one");
            }
            String text;
            try {
                text = Files.readString(source);
            } catch (MalformedInputException e) {
                throw new InvalidSpecException("configFiles", source + " is not UTF-8 text; config files are tagged "
                        + "text (;name; placeholders)");
            } catch (IOException e) {
                throw new InvalidSpecException("configFiles", "cannot read " + source + " (" + e.getClass()
                        .getSimpleName() + ": " + e.getMessage() + "); relative paths are against " + spec.baseDir());
            }
            files.add(new ModelPlan.RenderedFile(source, target, Tags.substitute(text, params,
                    "configFiles " + source.getFileName() + " (" + where + ")")));
        }
        return new ModelPlan(spec.name(), ensemble, spec.launcher(), dir, workDir, exe, args, env, spec.run(), params,
                files, dir.resolve(spec.name() + ".out"), dir.resolve(spec.name() + ".err"));
    }

    /** Creates the model's directories and writes its config files: the one step between a plan and a launch. */
    public static void writeFiles(ModelPlan plan) {
        try {
            Files.createDirectories(plan.dir());
            Files.createDirectories(plan.workDir());
            for (ModelPlan.RenderedFile f : plan.files()) {
                Files.writeString(f.target(), f.content());
            }
            Files.deleteIfExists(plan.stdout());
            Files.deleteIfExists(plan.stderr());
        } catch (IOException e) {
            throw new io.smartsim.launch.LaunchException("cannot write the files of model '" + plan.name() + "' under "
                    + plan.dir() + ": " + e.getMessage() + "; check that the experiment directory is writable", e);
        }
    }
}
