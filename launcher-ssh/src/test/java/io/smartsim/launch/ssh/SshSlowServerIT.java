package io.smartsim.launch.ssh;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The ssh launcher with a server binary that takes a while to become redis-server, as on hosts where a wrapper script
 * (modules, a container entry point) or a slow exec stands between the start command and the server: until Redis has
 * set its process title, the recorded pid does not name the shard's port. Found on separate sshd containers (about
 * one run in 4-6 there); here the wrapper sleeps before it execs the real {@code /usr/bin/redis-server} (by that path,
 * so Debian's redis-check-rdb symlink picks its mode from argv[0]), which makes the window certain. Shards on
 * 127.0.1.1-3 through the loopback sshd of {@code testbeds/ssh}, real redis-server.
 */
@TestbedLock(value = TestbedLock.Bed.SSH, shared = true)
class SshSlowServerIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir (the wrappers too), ports everywhere
    @TempDir
    Path dir;

    @BeforeAll
    static void sshdUp() {
        SshTestbed.up();
    }

    /**
     * A wrapper that execs the real server after {@code sleep SECONDS} (only while {@code dir/slow} exists, when
     * {@code onlyWhenSlowFile}), and exits 3 at once instead on the host whose address is {@code refuseOn} ("" none).
     */
    private Path wrapper(int seconds, boolean onlyWhenSlowFile, String refuseOn) throws Exception {
        Path w = dir.resolve("bin").resolve("slow-redis-server");
        Files.createDirectories(w.getParent());
        String sleep = "sleep " + seconds + "\n";
        Files.writeString(w, "#!/bin/sh\n"
                + (refuseOn.isEmpty() ? "" : "case \" $* \" in *\" " + refuseOn + " \"*) echo \"slow-redis-server: "
                + "refusing to start on " + refuseOn + " (on purpose)\" >&2; exit 3;; esac\n")
                + (onlyWhenSlowFile ? "if [ -e '" + dir.resolve("slow") + "' ]; then " + sleep.strip() + "; fi\n"
                : sleep)
                + "exec /usr/bin/redis-server \"$@\"\n");
        assertThat(w.toFile().setExecutable(true)).isTrue();
        return w;
    }

    private OrchestratorSpec.Builder spec(Path binary) {
        int port = leftovers.freeBase(1);
        return OrchestratorSpec.builder().id("db").launcher("ssh").nodes(3).instancesPerNode(1).port(port)
                .serverBinary(binary)
                .launcherOption("hosts", String.join(",", SshTestbed.HOSTS))
                .launcherOption("ssh-config", SshTestbed.sshConfig().toString());
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aServerThatTakesASecondToBecomeRedisServerIsNotTakenForDead() throws Exception {
        try (Experiment exp = Experiment.create("ssh-slow", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(wrapper(1, false, "")).build());
            long t0 = System.nanoTime();
            exp.start(db); // before the fix: "shard 0 ... exited while starting" at the first liveness probe
            System.out.printf("ssh: 3 shards behind a 1 s wrapper healthy in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            assertThat(db.health().healthy()).as(db.health().problems().toString()).isTrue();
            assertThat(new SshLauncher().probe(db.shards()).values()).containsOnly(Liveness.ALIVE);
            exp.stop(db);
            assertThat(new SshLauncher().probe(db.shards()).values()).containsOnly(Liveness.GONE);
        }
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aLaunchThatFailsWhileOtherServersAreStillBeingStartedLeavesNothingBehind() throws Exception {
        OrchestratorSpec spec;
        try (Experiment exp = Experiment.create("ssh-slow", dir)) {
            // Shard 1's wrapper fails at once; shards 0 and 2 sleep 3 s, then would exec redis-server.
            Orchestrator db = exp.createOrchestrator(spec(wrapper(3, false, SshTestbed.HOSTS.get(1))).build());
            spec = db.plan().spec();
            assertThatThrownBy(() -> exp.start(db)).isInstanceOf(ShardStartException.class)
                    .hasMessageContaining("shard 1 (db_1)")
                    .hasMessageContaining("exited while starting; every shard of this launch was stopped")
                    .hasMessageContaining("refusing to start on " + SshTestbed.HOSTS.get(1) + " (on purpose)");
        }
        // "Every shard was stopped" must hold: the sleeping wrappers (and their sleep) are gone, so no redis-server
        // can come up later. Before the fix they were spared (no port in their title) and became servers 3 s later.
        long until = System.nanoTime() + Processes.GRACE.toNanos();
        List<Processes.Proc> left = Processes.under(dir);
        while (!left.isEmpty() && System.nanoTime() < until) {
            Thread.sleep(100);
            left = Processes.under(dir);
        }
        assertThat(left).as("processes of the failed launch").isEmpty();
        assertThat(Processes.serversOn(List.of(spec.port()))).isEmpty();
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aWatchdogRestartThroughASlowWrapperRejoins() throws Exception {
        try (Experiment exp = Experiment.create("ssh-slow", dir)) {
            // Started fast; the restart goes through the wrapper's 1 s sleep (dir/slow exists by then).
            Orchestrator db = exp.createOrchestrator(spec(wrapper(1, true, "")).restart(RestartPolicy.ON_FAILURE)
                    .build());
            exp.start(db);
            Files.writeString(dir.resolve("slow"), "");
            LaunchedShard victim = db.shards().get(1);
            try (SshLauncher.Hosts hosts = SshLauncher.Hosts.recorded(List.of(victim))) {
                assertThat(hosts.forShard(victim).runner().run(SshCommands.kill("KILL", List.of(victim.pid().get())),
                        Duration.ofSeconds(10)).ok()).as("kill -9 over SSH").isTrue();
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            List<Event> events = exp.supervision("db").events();
            while (!types(events).contains(Event.REJOINED) && !types(events).contains(Event.RESTART_FAILED)
                    && System.nanoTime() < until) {
                Thread.sleep(100);
                events = exp.supervision("db").events();
            }
            // Before the fix: RESTART_FAILED, "exited while starting", at the restart's first liveness probe.
            assertThat(types(events)).as(events.toString())
                    .containsExactly(Event.SHARD_DOWN, Event.RESTARTING, Event.RESTARTED, Event.REJOINED);
            assertThat(db.shards().get(1).pid()).isPresent().isNotEqualTo(victim.pid());
            assertThat(new SshLauncher().probe(db.shards()).values()).containsOnly(Liveness.ALIVE);
            assertThat(db.health().healthy()).as(db.health().problems().toString()).isTrue();
            exp.stop(db);
        }
    }

    private static List<String> types(List<Event> events) {
        return events.stream().filter(e -> e.shard().map(s -> s == 1).orElse(false)).map(Event::type).toList();
    }
}
