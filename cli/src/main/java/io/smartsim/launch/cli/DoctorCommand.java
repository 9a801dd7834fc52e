package io.smartsim.launch.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.smartsim.launch.ThisMachine;
import io.smartsim.launch.spec.Backend;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.spi.Launchers;
import io.smartsim.launch.status.AiRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code doctor}: which database servers and scheduler commands this machine has, and how to get the rest. */
@Command(name = "doctor",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        description = "Look for redis-server, keydb-server, redis-cli, srun, sbatch and qsub on PATH, show their "
                + "versions, say how to install what is missing, and list the launchers this build has.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:redis-server was found.", "1:redis-server was not found.", Errors.EXIT_DOC_USAGE})
public final class DoctorCommand implements Callable<Integer> {
    static final Duration VERSION_TIMEOUT = Duration.ofSeconds(5);
    /** How long to wait for the rest of the output after the tool exited. */
    private static final Duration PIPE_DRAIN = Duration.ofSeconds(1);
    private static final Pattern VERSION = Pattern.compile("(?:v=)?(\\d+\\.\\d+(?:\\.\\d+)?)");

    /** A command worth knowing about; {@code installHint} is shown when it is missing. */
    record Tool(String name, String purpose, String installHint) {
    }

    static final List<Tool> TOOLS = List.of(
            new Tool("redis-server", "runs the shards (backend redis)", Backend.REDIS.installHint()),
            new Tool("keydb-server", "runs the shards (backend keydb)", Backend.KEYDB.installHint()),
            new Tool("redis-cli", "inspects a running database (redis-cli --cluster check)",
                    "apt-get install redis-tools (installed along with redis-server)"),
            new Tool("srun", "Slurm run command: starts shards inside an allocation",
                    "apt-get install slurm-wlm, or on a cluster load its Slurm module (module load slurm)"),
            new Tool("sbatch", "Slurm batch submission",
                    "apt-get install slurm-wlm, or on a cluster load its Slurm module (module load slurm)"),
            new Tool("qsub", "PBS batch submission",
                    "install the PBS client (OpenPBS / PBS Pro), or Debian's slurm-wlm-torque (a qsub for Slurm), "
                            + "or on a cluster load its PBS module"));

    /** What {@code --json} prints. */
    record Report(List<Found> tools, List<String> launchers, boolean ready, AiFound ai) {
    }

    /**
     * The model-serving runtime ({@code --ai}): where it was found and its backends with their versions, or why there
     * is none.
     *
     * @param from     where the jars were found (a directory, or the setting that named them); null when none
     * @param backends name and runtime version of each backend found there
     * @param problem  why there is no runtime, or why versions are unknown; null when all is well
     * @param module   the AI Redis module (smartsim-ai.so) on that class path: "ok ..." when redis-server loads it,
     *                 otherwise why not; null when there is no runtime
     */
    record AiFound(String from, List<AiBackendFound> backends, String problem, String module) {
    }

    /** ai-module's check: the module is on the AI class path and a throwaway redis-server loads it. */
    static final String MODULE_CHECK = "io.smartsim.launch.ai.module.ModuleCheck";

    record AiBackendFound(String name, String version) {
    }

    /**
     * @param path    where it was found on PATH, as found (symlinks not resolved); null when missing
     * @param version the version number, when the output had one
     * @param detail  the first line {@code --version} printed, or why there is none
     * @param hint    how to install it, when missing
     */
    record Found(String name, String purpose, String path, String version, String detail, String hint) {
    }

    /** What running {@code X --version} gave: its first line, or (not ok) why there is none. */
    record Probe(boolean ok, String text) {
        static Probe failed(String why) {
            return new Probe(false, why);
        }
    }

    @Spec
    CommandSpec spec;

    @Mixin
    OutputOptions output;

    private final String pathVar;
    private final Duration versionTimeout;

    public DoctorCommand() {
        this(System.getenv("PATH"), VERSION_TIMEOUT);
    }

    /** Looks on {@code pathVar} instead of this process's PATH, and waits {@code versionTimeout} for each tool. */
    DoctorCommand(String pathVar, Duration versionTimeout) {
        this.pathVar = pathVar;
        this.versionTimeout = versionTimeout;
    }

    @Override
    public Integer call() throws JsonProcessingException {
        List<Found> found = new ArrayList<>();
        for (Tool t : TOOLS) {
            found.add(examine(t));
        }
        List<String> launchers = Launchers.available().stream().map(Launcher::name).sorted().toList();
        boolean ready = found.get(0).path() != null;
        Report report = new Report(found, launchers, ready, ai(versionTimeout.multipliedBy(4), found.get(0).path()));
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
            out.println(Json.mapper().writeValueAsString(report));
        } else {
            out.print(render(report));
        }
        out.flush();
        return ready ? Errors.OK : Errors.FAILED;
    }

    /**
     * The AI runtime as {@code --ai} would find it. Versions come from the model server's own class path in a separate
     * JVM ({@code ModelServerMain --list-backends}), so the runtimes' native code never loads into this one.
     */
    static AiFound ai(Duration timeout, String redisServer) {
        AiRuntime install;
        try {
            install = ThisMachine.aiRuntime();
        } catch (InvalidSpecException e) {
            return new AiFound(null, List.of(), e.getMessage().replaceFirst("^ai: ", ""), null);
        }
        List<AiBackendFound> backends = new ArrayList<>();
        String problem = null;
        File errors = null;
        java.nio.file.Path scratch = null;
        try {
            // stdout carries the list alone; the runtimes log to stderr as they load (TensorFlow: timestamped lines).
            // The JVM's java.io.tmpdir is a directory of this check's, removed after it: ONNX Runtime makes an
            // onnxruntime-java* directory there when it loads and never removes it.
            scratch = java.nio.file.Files.createTempDirectory("smartsim-doctor-ai");
            errors = scratch.resolve("list-backends.err").toFile();
            Process p = new ProcessBuilder(install.java(), "-Djava.io.tmpdir=" + scratch, "-cp", install.classPath(),
                    ModelServerPlan.MAIN, "--list-backends")
                    .redirectError(errors).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8); // ends when the JVM exits
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
                killTree(p);
                problem = "could not ask the backends their versions: " + (out + "\n"
                        + java.nio.file.Files.readString(errors.toPath(), StandardCharsets.UTF_8)).strip();
            } else {
                out.lines().map(String::strip).filter(l -> !l.isEmpty()).forEach(l -> {
                    int sp = l.indexOf(' ');
                    backends.add(sp < 0 ? new AiBackendFound(l, null)
                            : new AiBackendFound(l.substring(0, sp), l.substring(sp + 1)));
                });
            }
        } catch (IOException e) {
            problem = "could not run " + install.java() + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problem = "interrupted while asking the backends their versions";
        } finally {
            if (scratch != null) {
                deleteTree(scratch);
            }
        }
        if (problem != null) {
            install.backends().forEach(b -> backends.add(new AiBackendFound(b, null)));
        }
        return new AiFound(install.from(), backends, problem, module(install, redisServer, timeout));
    }

    /** Removes {@code dir} and what is in it, as far as it can: the doctor's scratch directory. */
    private static void deleteTree(java.nio.file.Path dir) {
        try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a report is what doctor owes; a scratch directory it cannot read is not worth failing it
        }
    }

    /** {@link #MODULE_CHECK} in the AI class path's JVM, with redis-server as found on PATH: its one line. */
    static String module(AiRuntime install, String redisServer, Duration timeout) {
        if (redisServer == null) {
            return "not checked: redis-server is missing";
        }
        try {
            Process p = new ProcessBuilder(install.java(), "-cp", install.classPath(), MODULE_CHECK, "--redis-server",
                    redisServer, "--timeout-ms", Long.toString(timeout.toMillis() / 2)).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip(); // ends when the JVM exits
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                killTree(p);
                return "the module check did not finish within " + timeout.toMillis() + " ms";
            }
            if (out.contains(MODULE_CHECK) && out.contains("main class")) {
                return "not found: " + install.from() + " has no ai-module jar (which holds smartsim-ai.so); build it "
                        + "with gcc: mvn -DskipTests package (ai-dist/target/ai)";
            }
            return out.lines().findFirst().orElse("the module check printed nothing (exit " + p.exitValue() + ")");
        } catch (IOException e) {
            return "could not run " + install.java() + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while checking the module";
        }
    }

    private Found examine(Tool t) {
        Optional<Path> path = ThisMachine.executableOnPath(t.name(), pathVar);
        if (path.isEmpty()) {
            return new Found(t.name(), t.purpose(), null, null, "not found on PATH", t.installHint());
        }
        Probe probe = versionLine(path.get(), versionTimeout);
        Matcher m = VERSION.matcher(probe.text());
        String version = probe.ok() && m.find() ? m.group(1) : null;
        String detail = probe.text() + slurmWrapperNote(path.get());
        return new Found(t.name(), t.purpose(), path.get().toString(), version, detail, null);
    }

    /**
     * The first non-blank line {@code <path> --version} prints, run as found on PATH (Debian's redis-server is a
     * symlink that picks its mode from argv[0]), within {@code timeout}; or what went wrong. A tool that hangs is
     * killed together with its children.
     */
    static Probe versionLine(Path exe, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(exe.toString(), "--version").redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return Probe.failed("could not run '" + exe + " --version': " + e.getMessage());
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            try (InputStream in = p.getInputStream()) {
                in.transferTo(output);
            } catch (IOException e) {
                // the process was killed or closed its output: keep what was read
            }
        }, "doctor-" + exe.getFileName());
        reader.setDaemon(true); // a child the tool left behind may hold the pipe open; it must not hold this JVM
        reader.start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                killTree(p);
                return Probe.failed("'" + exe + " --version' did not finish within " + timeout.toMillis() / 1000.0
                        + " s");
            }
            reader.join(PIPE_DRAIN.toMillis());
        } catch (InterruptedException e) {
            killTree(p);
            Thread.currentThread().interrupt();
            return Probe.failed("interrupted while running '" + exe + " --version'");
        }
        String line = output.toString(StandardCharsets.UTF_8).lines().map(String::strip).filter(l -> !l.isEmpty())
                .findFirst().orElse("");
        if (line.length() > 120) {
            line = line.substring(0, 117) + "...";
        }
        if (p.exitValue() != 0) {
            return Probe.failed("version unknown: '" + exe.getFileName() + " --version' exited with " + p.exitValue()
                    + (line.isEmpty() ? "" : " (" + line + ")"));
        }
        return line.isEmpty() ? Probe.failed("version unknown: '" + exe.getFileName() + " --version' printed nothing")
                : new Probe(true, line);
    }

    private static void killTree(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    /** Debian's qsub/sbatch-compatible wrappers are Perl scripts from Slurm; say so, as PBS users will ask. */
    static String slurmWrapperNote(Path exe) {
        byte[] head = new byte[4096];
        int n;
        try (InputStream in = Files.newInputStream(exe)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            return "";
        }
        String s = new String(head, 0, n, StandardCharsets.ISO_8859_1);
        return s.startsWith("#!") && s.contains("perl") && s.contains("Slurm")
                ? " [a Perl wrapper from Slurm (slurm-wlm-torque), not PBS itself]" : "";
    }

    static String render(Report r) {
        StringBuilder sb = new StringBuilder();
        List<List<String>> rows = new ArrayList<>();
        for (Found f : r.tools()) {
            rows.add(List.of(f.name(), f.path() == null ? "MISSING" : f.path(), f.version() == null ? "-" : f.version(),
                    f.path() == null ? f.purpose() : f.detail()));
        }
        sb.append(Text.table("", List.of("TOOL", "PATH", "VERSION", "DETAIL"), rows));
        List<Found> missing = r.tools().stream().filter(f -> f.path() == null).toList();
        if (!missing.isEmpty()) {
            sb.append("\nmissing:\n");
            missing.forEach(f -> sb.append("  ").append(f.name()).append(": ").append(f.hint()).append('\n'));
        }
        sb.append("\nlaunchers: ").append(r.launchers().isEmpty() ? "none (no launcher module on the class path)"
                : String.join(", ", r.launchers())).append('\n');
        AiFound ai = r.ai();
        if (ai.from() == null) {
            sb.append("model serving (--ai): not installed: ").append(ai.problem()).append('\n');
        } else {
            sb.append("model serving (--ai): ").append(ai.backends().isEmpty() ? "no backend" : String.join(", ",
                    ai.backends().stream().map(b -> b.name() + (b.version() == null ? "" : " " + b.version()))
                            .toList())).append(" from ").append(ai.from()).append('\n');
            if (ai.problem() != null) {
                sb.append("  ").append(ai.problem()).append('\n');
            }
            sb.append("  AI Redis module (smartsim-ai.so): ").append(ai.module()).append('\n');
        }
        sb.append(r.ready() ? "ready: redis-server found\n"
                : "not ready: redis-server is missing; " + Backend.REDIS.installHint() + "\n");
        return sb.toString();
    }
}
