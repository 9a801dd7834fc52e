package io.smartsim.launch.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs an argv with a timeout; output goes to a file so a chatty command never blocks on a full pipe. */
final class Sh {
    record Result(int exit, String out, double seconds) {
        boolean ok() {
            return exit == 0;
        }
    }

    private Sh() {
    }

    static Result run(List<String> argv, Path workDir, Duration timeout) {
        try {
            Path out = Files.createTempFile("bench-sh", ".out");
            try {
                long t0 = System.nanoTime();
                Process p = new ProcessBuilder(argv).directory(workDir.toFile()).redirectErrorStream(true)
                        .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .start();
                boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
                double s = (System.nanoTime() - t0) / 1e9;
                if (!done) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                    return new Result(-1, "timed out after " + timeout.toSeconds() + " s: " + argv + "\n"
                            + Files.readString(out, StandardCharsets.UTF_8), s);
                }
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), s);
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            return new Result(-1, "could not run " + argv + ": " + e.getMessage(), 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + argv, e);
        }
    }

    static Result run(List<String> argv, Duration timeout) {
        return run(argv, Path.of("."), timeout);
    }

    /** The first line of a command's output, or "?" when it fails. */
    static String firstLine(List<String> argv) {
        Result r = run(argv, Duration.ofSeconds(10));
        return r.ok() ? r.out().lines().findFirst().orElse("?").trim() : "?";
    }
}
