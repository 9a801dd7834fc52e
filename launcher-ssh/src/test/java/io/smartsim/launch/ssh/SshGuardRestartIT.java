package io.smartsim.launch.ssh;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.supervise.Lease;
import io.smartsim.launch.supervise.LeaseGuard;
import io.smartsim.launch.testing.LeaseWaits;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A killed lease guard on the ssh launcher: shards on 127.0.1.1-3 through the loopback sshd and real redis-server. The
 * guard is killed over SSH on its host; the watchdog (the open experiment) sees it gone and starts it again there, and
 * the restarted guard still ends its shard once nobody renews.
 */
@TestbedLock(value = TestbedLock.Bed.SSH, shared = true)
class SshGuardRestartIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;

    @BeforeAll
    static void sshdUp() {
        SshTestbed.up();
    }

    private static String ps(LaunchedShard s, long pid) {
        try (SshLauncher.Hosts hosts = SshLauncher.Hosts.recorded(List.of(s))) {
            CommandResult r = hosts.forShard(s).runner().run(SshCommands.ps(List.of(pid)), Duration.ofSeconds(10));
            return SshCommands.parsePs(r.stdout()).getOrDefault(pid, "");
        }
    }

    @Test
    void aGuardKilledOnItsHostIsStartedAgainThereAndStillEndsItsShard() throws Exception {
        int port = leftovers.freeBase(1);
        Duration lease = Duration.ofSeconds(10);
        List<LaunchedShard> shards;
        try (Experiment exp = Experiment.create("guard", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().id("db").launcher("ssh").nodes(3)
                    .instancesPerNode(1).port(port).lease(lease)
                    .launcherOption("hosts", String.join(",", SshTestbed.HOSTS))
                    .launcherOption("ssh-config", SshTestbed.sshConfig().toString()).build());
            exp.start(db);
            LaunchedShard victim = db.shards().get(1);
            long killedGuard = Long.parseLong(victim.handle().get(LeaseGuard.HANDLE_PID));
            assertThat(ps(victim, killedGuard)).endsWith(LeaseGuard.FILE + " " + victim.pid().orElseThrow() + " 1");
            Instant killed = Instant.now();
            try (SshLauncher.Hosts hosts = SshLauncher.Hosts.recorded(List.of(victim))) {
                assertThat(hosts.forShard(victim).runner().run(SshCommands.kill("KILL", List.of(killedGuard)),
                        Duration.ofSeconds(10)).ok()).isTrue();
            }
            long until = System.nanoTime() + Duration.ofSeconds(60).toNanos(); // the next watchdog check, generously
            List<Event> events = exp.supervision("db").events();
            while (events.stream().noneMatch(e -> e.type().startsWith("guard-")) && System.nanoTime() < until) {
                Thread.sleep(100);
                events = exp.supervision("db").events();
            }
            List<Event> restarts = events.stream().filter(e -> e.type().startsWith("guard-")).toList();
            assertThat(restarts).as(events.toString()).hasSize(1);
            Event e = restarts.get(0);
            assertThat(e.type()).isEqualTo(Event.GUARD_RESTARTED);
            assertThat(e.shard()).contains(1);
            long again = Long.parseLong(db.shards().get(1).handle().get(LeaseGuard.HANDLE_PID));
            assertThat(again).isNotEqualTo(killedGuard);
            assertThat(e.detail()).isEqualTo("its lease guard (pid " + killedGuard + ") was gone while the shard (pid "
                    + victim.pid().orElseThrow() + ") runs: started it again as pid " + again);
            System.out.printf("ssh: kill -9 of a guard -> guard-restarted %d ms%n",
                    Duration.between(killed, e.time()).toMillis());
            assertThat(ps(victim, again)).as("the new guard runs on the shard's host")
                    .endsWith(LeaseGuard.FILE + " " + victim.pid().orElseThrow() + " 1");
            assertThat(exp.status("db").shards().get(1).handle().get(LeaseGuard.HANDLE_PID))
                    .as("the manifest records the new guard").isEqualTo(Long.toString(again));
            shards = db.shards();
            exp.detach(db); // nobody renews from here
        }
        // Nobody renews now: every shard stops once the last expiry written has passed. Waited for with a generous
        // deadline from that expiry (not lease + 8 s from here, a guess of this machine's speed); when each guard
        // acted is checked against the expiry below.
        Instant closed = Instant.now();
        Instant last = Lease.in(dir.resolve("db")).expiry().orElseThrow();
        SshLauncher ssh = new SshLauncher();
        long until = LeaseWaits.goneBy(last);
        while (ssh.probe(shards).values().stream().anyMatch(l -> l != Liveness.GONE) && System.nanoTime() < until) {
            Thread.sleep(200);
        }
        System.out.printf("ssh: every shard (one with a restarted guard) gone %d ms after the last renewal could "
                + "have been, %d ms after the last expiry%n", Duration.between(closed, Instant.now()).toMillis(),
                Duration.between(last, Instant.now()).toMillis());
        assertThat(ssh.probe(shards).values()).as("every shard gone once the lease ran out at %s", last)
                .containsOnly(Liveness.GONE);
        try (Experiment exp = Experiment.reconnect(dir)) {
            List<Event> events = exp.supervision("db").events();
            LeaseWaits.assertStoppedOnlyAfter(events, last);
            List<Event> expired = LeaseWaits.guardsExpired(events);
            assertThat(expired).as("one per guard, the restarted one too").extracting(x -> x.shard().orElseThrow())
                    .containsExactlyInAnyOrder(0, 1, 2);
            exp.stop(exp.orchestrator("db"));
            assertThat(exp.status("db").state()).isEqualTo("STOPPED");
        }
    }
}
