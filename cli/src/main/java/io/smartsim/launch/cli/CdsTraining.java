package io.smartsim.launch.cli;

import io.smartsim.launch.ThisMachine;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.spec.OrchestratorSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What {@code bin/smartsim-launch} runs once per build of the jar (and per java) with
 * {@code -XX:ArchiveClassesAtExit}, to make the class-data archive every later start maps instead of loading, parsing
 * and verifying the same classes again: picocli's command tree and a {@code db start} command line read (not run), a
 * plan and its manifest record written to JSON and read back, a Redis client's connection attempt to a closed local
 * port. It starts no process, writes only in a temporary directory it removes, and sends nothing anywhere.
 */
public final class CdsTraining {
    /** Classes a start uses once its servers run (forming, health, the client's protocol), linked without running. */
    private static final List<String> LINKED = List.of("io.smartsim.launch.Experiment",
            "io.smartsim.launch.local.LocalLauncher", "io.smartsim.launch.exec.DaemonProcess",
            "io.smartsim.launch.cluster.ClusterFormer", "io.smartsim.launch.cluster.HealthChecker",
            "io.smartsim.launch.cluster.Connections", "io.smartsim.launch.cluster.Ping", "io.smartsim.launch.util.Parallel",
            "io.smartsim.launch.cli.DbStartCommand", "redis.clients.jedis.Protocol", "redis.clients.jedis.Pipeline",
            "redis.clients.jedis.util.RedisInputStream", "redis.clients.jedis.util.RedisOutputStream");

    private CdsTraining() {
    }

    /**
     * Loads, without initializing, every class of this project in the jar: a {@code db start} reaches many of them
     * only once it runs (resume data, transports, the launcher's start), which training does not do; loaded here,
     * they are in the archive too. A class that cannot load here is simply not archived.
     */
    private static void loadOwnClasses() throws java.io.IOException, java.net.URISyntaxException {
        Path jar = Path.of(CdsTraining.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (!Files.isRegularFile(jar)) {
            return; // run from classes, not the jar: nothing to archive
        }
        try (java.util.jar.JarFile f = new java.util.jar.JarFile(jar.toFile())) {
            f.stream().map(java.util.jar.JarEntry::getName)
                    .filter(n -> n.startsWith("io/smartsim/launch/") && n.endsWith(".class"))
                    .map(n -> n.substring(0, n.length() - ".class".length()).replace('/', '.'))
                    .forEach(c -> {
                        try {
                            Class.forName(c, false, CdsTraining.class.getClassLoader());
                        } catch (ClassNotFoundException | LinkageError notHere) {
                            // an optional dependency missing: that class is not archived
                        }
                    });
        }
    }

    public static void main(String[] args) throws Exception {
        Path tmp = Files.createTempDirectory("smartsim-launch-cds-");
        try {
            String[] start = {"db", "start", "--per-node", "3", "--exp-dir", tmp.toString()};
            Main.commandLine(start).parseArgs(start);
            Main.commandLine().parseArgs("db", "status", "--exp-dir", tmp.toString());
            Warmup.run();
            // and a manifest written and read back, in the temporary directory
            ThisMachine.warmUp(OrchestratorSpec.builder().launcher("local").instancesPerNode(3).build(),
                    Optional.of(tmp));
            loadOwnClasses();
            for (String c : LINKED) {
                try {
                    Class.forName(c, true, CdsTraining.class.getClassLoader());
                } catch (ClassNotFoundException | LinkageError renamed) {
                    // a class renamed since: only that one is not archived
                }
            }
            try (redis.clients.jedis.Jedis j = new redis.clients.jedis.Jedis("127.0.0.1", 1, 200)) {
                j.ping(); // port 1 is closed: refused at once, the client's classes are loaded
            } catch (RuntimeException refused) {
                // expected
            }
        } finally {
            try (var files = Files.walk(tmp)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        System.exit(0);
    }
}
