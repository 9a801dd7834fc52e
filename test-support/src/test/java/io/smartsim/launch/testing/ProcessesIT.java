package io.smartsim.launch.testing;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The leftover checks every integration test relies on, against a real redis-server this test starts: they find it
 * while it runs (where {@code pgrep -af redis-server | grep DIR} cannot), find nothing of another directory, and find
 * nothing once it is gone.
 */
class ProcessesIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Path REDIS = Path.of("/usr/bin/redis-server"); // never resolved: it picks its mode by name

    @TempDir
    Path tmp;
    @TempDir
    Path elsewhere;
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopWhatThisTestStarted() {
        for (Process p : started) {
            p.destroyForcibly();
        }
        for (Process p : started) {
            p.onExit().orTimeout(10, TimeUnit.SECONDS).join();
        }
    }

    private Process start(Path cwd, String... argv) throws IOException {
        Process p = new ProcessBuilder(argv).directory(cwd.toFile()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("out-" + started.size() + ".log").toFile()).start();
        started.add(p);
        return p;
    }

    /** A shard as every launcher starts one: a config whose {@code dir} is its work dir under the experiment. */
    private Process redis(Path workDir, int port) throws Exception {
        Files.createDirectories(workDir);
        Path conf = workDir.resolve("redis.conf");
        Files.writeString(conf, "port " + port + "\nbind 127.0.0.1\ndir \"" + workDir + "\"\nsave \"\"\n"
                + "appendonly no\n");
        Path out = tmp.resolve("out-" + started.size() + ".log");
        Process p = start(Path.of(System.getProperty("user.dir")), REDIS.toString(), conf.toString());
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return p;
            } catch (IOException notYet) {
                assertThat(p.isAlive()).as("redis-server exited: %s", Files.readString(out))
                        .isTrue();
                assertThat(System.nanoTime()).as("redis-server listens within 20 s").isLessThan(until);
                Thread.sleep(50);
            }
        }
    }

    private static String pgrep(String pattern) throws Exception {
        Process p = new ProcessBuilder("pgrep", "-af", pattern).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        return out;
    }

    @Test
    void aLiveRedisServerIsFoundByItsWorkDirThoughItsTitleNoLongerNamesIt() throws Exception {
        assumeTrue(Files.isExecutable(REDIS), "needs redis-server at " + REDIS);
        int port = Processes.freeBase(1);
        Process shard = redis(tmp.resolve("exp/orchestrator/orchestrator_0"), port);

        // The check the integration tests used to make: blind, the config path is gone from the command line.
        assertThat(pgrep("redis-server").lines().filter(l -> l.contains(tmp.toString())))
                .as("pgrep -af redis-server no longer names the config: the old check could not fail").isEmpty();
        assertThat(pgrep("redis-server").lines()).anyMatch(l -> l.startsWith(shard.pid() + " ")
                && l.contains("127.0.0.1:" + port));

        assertThat(Processes.serversUnder(tmp)).extracting(Processes.Proc::pid).containsExactly(shard.pid());
        assertThat(Processes.serversUnder(tmp).get(0).cwd()).isEqualTo(tmp.resolve("exp/orchestrator/orchestrator_0")
                .toRealPath().toString());
        assertThat(Processes.serversOn(List.of(port))).singleElement().asString().startsWith(shard.pid() + " ");
        assertThat(Processes.leftUnder(tmp, Duration.ofMillis(300))).extracting(Processes.Proc::pid)
                .containsExactly(shard.pid());
        assertThat(Processes.under(elsewhere)).as("another test's directory").isEmpty();
        assertThat(Processes.free("127.0.0.1", port)).isFalse();

        shard.destroy(); // SIGTERM: redis-server shuts down
        assertThat(shard.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(Processes.serversUnder(tmp)).isEmpty();
        assertThat(Processes.leftUnder(tmp, Duration.ofSeconds(5))).isEmpty();
        assertThat(Processes.serversOn(List.of(port))).isEmpty();
        assertThat(Processes.free("127.0.0.1", port)).isTrue();
    }

    @Test
    void anyProcessRunningInOrNamingTheDirCountsAndKillUnderEndsThemAll() throws Exception {
        Path model = Files.createDirectories(tmp.resolve("exp/sim"));
        Process inDir = start(model, "sleep", "600");                                   // a model in its run dir
        Path log = Files.writeString(model.resolve("sim.log"), "");
        Process naming = start(elsewhere, "tail", "-f", log.toString());                // as srun --chdir=DIR shows
        Process neither = start(elsewhere, "sleep", "600");

        assertThat(Processes.under(tmp)).extracting(Processes.Proc::pid).containsExactlyInAnyOrder(inDir.pid(),
                naming.pid());
        assertThat(Processes.serversUnder(tmp)).as("no server among them").isEmpty();
        assertThat(Processes.under(tmp)).filteredOn(p -> p.pid() == inDir.pid()).singleElement()
                .satisfies(p -> assertThat(p.comm()).isEqualTo("sleep"));

        Processes.killUnder(tmp);
        assertThat(Processes.under(tmp)).isEmpty();
        assertThat(inDir.isAlive()).isFalse();
        assertThat(naming.isAlive()).isFalse();
        assertThat(neither.isAlive()).as("a process outside the dir is never killed").isTrue();
    }

    @Test
    void aPathNamesOnlyItselfAndWhatIsBelowIt() {
        assertThat(Processes.names("srun --chdir=/tmp/junit-12/exp/db_0 bash", "/tmp/junit-12")).isTrue();
        assertThat(Processes.names("sh /tmp/junit-12", "/tmp/junit-12")).isTrue();
        assertThat(Processes.names("redis-server /tmp/junit-12\"x", "/tmp/junit-12")).isTrue();
        assertThat(Processes.names("srun --chdir=/tmp/junit-123/exp", "/tmp/junit-12")).isFalse();
        assertThat(Processes.names("sh /tmp/junit-12.old/x", "/tmp/junit-12")).isFalse();
        assertThat(Processes.names("redis-server 127.0.0.1:6380 [cluster]", "/tmp/junit-12")).isFalse();
    }
}
