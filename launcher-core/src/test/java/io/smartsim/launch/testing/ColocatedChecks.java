package io.smartsim.launch.testing;

import io.smartsim.launch.colocated.ColocatedStatus;
import io.smartsim.launch.planned.ColocatedPlan;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the colocated-database tests of every launcher check (local ColocatedIT, SlurmColocatedIT): the node's name as
 * the wrapper writes it, the ranks' output, the database through redis-cli, and that nothing of a model's database
 * is left once its ranks have ended.
 */
public final class ColocatedChecks {
    private ColocatedChecks() {
    }

    /** This machine's short host name: {@code hostname -s}, as the wrapper names a node's files. */
    public static String hostname() {
        try {
            Process p = new ProcessBuilder("hostname", "-s").start();
            return new String(p.getInputStream().readAllBytes()).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The rank script every launcher's colocated test runs (launcher-local's test resource {@code colocated-app.sh}:
     * rank from SMARTSIM_RANK or SLURM_PROCID), copied executable into {@code dir}; its path there.
     */
    public static Path app(Path dir) throws IOException {
        Path app = dir.resolve("colocated-app.sh");
        Files.copy(Path.of("../launcher-local/src/test/resources/colocated-app.sh"), app);
        Files.setPosixFilePermissions(app, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        return app;
    }

    /** Polls {@code condition} until it holds, failing with {@code what} after {@code within}. */
    public static void await(BooleanSupplier condition, Duration within, String what) throws InterruptedException {
        long until = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("not within " + within + ": " + what);
            }
            Thread.sleep(20);
        }
    }

    /** The lines of {@code file}; none while it does not exist. */
    public static Stream<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file).stream() : Stream.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** redis-cli with {@code args}: its output lines (stderr too), once it has exited (30 s at most). */
    public static List<String> redisCli(String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("redis-cli"));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        List<String> out = new String(p.getInputStream().readAllBytes()).lines().toList();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    /**
     * No server under {@code dir}, model server, socket, pid file, lock file or temporary directory of the model's
     * database; its log (when it started) stays.
     */
    public static void assertNothingLeft(Path dir, ColocatedPlan plan) throws IOException {
        assertThat(Processes.serversUnder(dir)).isEmpty();
        assertThat(Processes.under(dir)).as("model servers of the colocated database")
                .noneMatch(p -> p.cmdline().contains(io.smartsim.launch.planned.ModelServerPlan.MAIN));
        assertThat(plan.modelServerSocket(hostname())).doesNotExist();
        plan.db().socket().ifPresent(s -> assertThat(s).doesNotExist());
        try (Stream<Path> files = Files.list(plan.dir())) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .noneMatch(f -> f.endsWith(".pid") || f.startsWith(".colocated-"));
        }
        assertThat(ColocatedStatus.nodes(plan)).isEmpty();
        assertThat(ColocatedStatus.ping(plan)).isFalse();
    }
}
