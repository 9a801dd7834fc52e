package io.smartsim.launch.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/** Ports and leftover servers, for the integration tests that run the real jar. */
final class TestServers {
    static final int BUS = 10_000;

    private TestServers() {
    }

    /** Skips the calling test without the shaded jar (built by 'mvn verify') or without redis-server on PATH. */
    static void assumeJarAndRedis() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(JarRunner.JAR),
                "run through 'mvn verify': needs " + JarRunner.JAR);
        assumeRedis();
    }

    /** Skips the calling test without redis-server on PATH, where the launcher looks for it. */
    static void assumeRedis() {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.smartsim.launch.util.Executables.onPath("redis-server")
                .isPresent(), "no redis-server on PATH (Debian: apt-get install redis-server)");
    }

    /** The ports {@code n} shards from {@code base} take: each client port and its bus port. */
    static List<Integer> withBus(int base, int n) {
        List<Integer> out = new ArrayList<>();
        IntStream.range(0, n).forEach(i -> {
            out.add(base + i);
            out.add(base + i + BUS);
        });
        return out;
    }

    /**
     * The first of {@code n} consecutive client ports whose bus ports are free too, from a test-unique base in
     * {@code [first, first + 800)}, reserved across test JVMs ({@code PortLocks}): classes that share a range
     * (SupervisionCliIT and GuardRestartCliIT) may run side by side in two failsafe forks.
     */
    static int freeBlock(int first, int n) {
        int span = 800;
        int offset = (int) (ProcessHandle.current().pid() % (span / 10)) * 10;
        for (int i = 0; i < span; i += 10) {
            int base = first + (offset + i) % span;
            io.smartsim.launch.testing.PortLocks.Taken taken = io.smartsim.launch.testing.PortLocks.reserve(
                    withBus(base, n));
            if (!taken.ok()) {
                continue; // another test JVM's
            }
            boolean ok = IntStream.range(0, n).allMatch(k -> free(base + k) && free(base + k + BUS));
            if (ok) {
                return base;
            }
            taken.giveBack();
        }
        throw new IllegalStateException("no free block of " + n + " ports in " + first + "-" + (first + span - 1));
    }

    static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code ps -eo pid=,args=} lines of redis-server processes whose title names one of {@code ports}. */
    static List<String> redisProcessesOn(List<Integer> ports) throws IOException, InterruptedException {
        Process ps = new ProcessBuilder("ps", "-eo", "pid=,args=").redirectErrorStream(true).start();
        String out = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!ps.waitFor(10, TimeUnit.SECONDS)) {
            ps.destroyForcibly();
            throw new IllegalStateException("ps did not finish in 10 s");
        }
        return out.lines().filter(l -> l.contains("redis-server"))
                .filter(l -> ports.stream().anyMatch(p -> l.contains(":" + p + " ") || l.endsWith(":" + p)))
                .toList();
    }
}
