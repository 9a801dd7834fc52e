package io.smartsim.launch.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the shaded jar (or any command) as a subprocess, its output captured in files. For the *IT tests. */
final class JarRunner {
    static final Path JAR = Path.of(System.getProperty("smartsim.launch.jar", "target/smartsim-launch.jar"));

    record Result(int exit, String out, String err, Duration took) {
        List<String> outLines() {
            return out.lines().toList();
        }

        @Override
        public String toString() {
            return "exit " + exit + " after " + took.toMillis() + " ms\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private final Path scratch;
    private int calls;

    JarRunner(Path scratch) {
        this.scratch = scratch;
    }

    /** A runner keeping each call's output under {@code tmp/calls}. */
    static JarRunner in(Path tmp) throws IOException {
        return new JarRunner(Files.createDirectories(tmp.resolve("calls")));
    }

    Result cli(String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(javaBinary(), "-jar", JAR.toString()));
        argv.addAll(List.of(args));
        return run(argv, Duration.ofSeconds(120));
    }

    Result run(List<String> argv, Duration timeout) throws IOException, InterruptedException {
        int n = ++calls;
        Path out = scratch.resolve("call-" + n + ".out");
        Path err = scratch.resolve("call-" + n + ".err");
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor();
            throw new AssertionError(argv + " did not finish within " + timeout + "\n" + Files.readString(err));
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err),
                Duration.ofNanos(System.nanoTime() - t0));
    }

    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
