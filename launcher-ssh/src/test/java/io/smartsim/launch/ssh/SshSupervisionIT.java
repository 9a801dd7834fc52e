package io.smartsim.launch.ssh;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.supervise.EventLog;
import io.smartsim.launch.supervise.Lease;
import io.smartsim.launch.testing.CpuHog;
import io.smartsim.launch.testing.LeaseWaits;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 7 items 2 and 5 on the ssh launcher: restart on failure and the lease, with shards on 127.0.1.1-3 through the
 * loopback sshd and real redis-server. Everything the launcher does on a host goes over SSH (start, ps, kill, the
 * lease file); the test's own checks of the hosts do too, except the final sweep for leftovers (same machine).
 */
@TestbedLock(value = TestbedLock.Bed.SSH, shared = true)
class SshSupervisionIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;

    @BeforeAll
    static void sshdUp() {
        SshTestbed.up();
    }

    private OrchestratorSpec.Builder spec() {
        int port = leftovers.freeBase(1);
        return OrchestratorSpec.builder().id("db").launcher("ssh").nodes(3).instancesPerNode(1).port(port)
                .launcherOption("hosts", String.join(",", SshTestbed.HOSTS))
                .launcherOption("ssh-config", SshTestbed.sshConfig().toString());
    }

    private static List<Event> awaitEvents(Experiment exp, Predicate<List<Event>> done, Duration limit)
            throws InterruptedException {
        long until = System.nanoTime() + limit.toNanos();
        List<Event> events = exp.supervision("db").events();
        while (!done.test(events) && System.nanoTime() < until) {
            Thread.sleep(100);
            events = exp.supervision("db").events();
        }
        return events;
    }

    private static List<String> types(List<Event> events, int shard) {
        return events.stream().filter(e -> e.shard().map(s -> s == shard).orElse(false)).map(Event::type).toList();
    }

    @Test
    void aShardKilledOnItsHostIsStartedAgainThereOverSshWithItsLeaseGuardAndRejoins() throws Exception {
        try (Experiment exp = Experiment.create("ssh-sup", dir)) {
            // With a lease too (renewed by this open experiment): the restarted shard gets a guard of its own.
            Orchestrator db = exp.createOrchestrator(spec().restart(RestartPolicy.ON_FAILURE)
                    .lease(Duration.ofSeconds(30)).build());
            exp.start(db);
            int port = db.plan().spec().port();
            LaunchedShard victim = db.shards().get(1);
            String nodeId = clusterMyId(db, SshTestbed.HOSTS.get(1), port);

            Instant killed = Instant.now();
            try (SshLauncher.Hosts hosts = SshLauncher.Hosts.recorded(List.of(victim))) {
                assertThat(hosts.forShard(victim).runner().run(SshCommands.kill("KILL", List.of(victim.pid().get())),
                        Duration.ofSeconds(10)).ok()).as("kill -9 over SSH on " + SshTestbed.HOSTS.get(1)).isTrue();
            }
            List<Event> events = awaitEvents(exp, ev -> types(ev, 1).contains(Event.REJOINED)
                    || types(ev, 1).contains(Event.RESTART_FAILED), Duration.ofSeconds(40));
            assertThat(types(events, 1)).as(events.toString())
                    .containsExactly(Event.SHARD_DOWN, Event.RESTARTING, Event.RESTARTED, Event.REJOINED);
            Event down = events.stream().filter(e -> e.type().equals(Event.SHARD_DOWN)).findFirst().orElseThrow();
            assertThat(down.detail()).contains("process is gone").contains("ssh launcher").contains("pid "
                    + victim.pid().get());
            System.out.printf("ssh: kill -9 -> shard-down %d ms, -> rejoined %d ms%n",
                    Duration.between(killed, down.time()).toMillis(), Duration.between(killed, events.stream()
                            .filter(e -> e.type().equals(Event.REJOINED)).findFirst().orElseThrow().time()).toMillis());
            assertThat(types(events, 0)).as("the other shards untouched").isEmpty();
            assertThat(types(events, 2)).isEmpty();

            LaunchedShard again = db.shards().get(1);
            assertThat(again.pid()).isPresent().isNotEqualTo(victim.pid());
            assertThat(again.host()).isEqualTo(victim.host());
            assertThat(again.port()).isEqualTo(port);
            assertThat(again.handle()).containsEntry("ssh-host", SshTestbed.HOSTS.get(1))
                    .containsKey(SshLauncher.HANDLE_GUARD)
                    .doesNotContainEntry(SshLauncher.HANDLE_GUARD, victim.handle().get(SshLauncher.HANDLE_GUARD));
            assertThat(exp.status("db").shards().get(1).pid()).as("the manifest records the new process")
                    .isEqualTo(again.pid());
            SshLauncher prober = new SshLauncher();
            long fresh = Long.MAX_VALUE;
            long kept = Long.MAX_VALUE;
            for (int i = 0; i < 5; i++) {
                long p0 = System.nanoTime();
                assertThat(new SshLauncher().probe(db.shards()).values()).containsOnly(Liveness.ALIVE);
                long p1 = System.nanoTime();
                assertThat(prober.probe(db.shards()).values()).as("sessions kept between probes")
                        .containsOnly(Liveness.ALIVE);
                fresh = Math.min(fresh, p1 - p0);
                kept = i == 0 ? kept : Math.min(kept, System.nanoTime() - p1);
            }
            System.out.printf("ssh: one probe of 3 hosts (one ps each, side by side), best of 5: %d ms with new SSH "
                    + "sessions, %d ms with the kept ones%n", fresh / 1_000_000, kept / 1_000_000);
            assertThat(clusterMyId(db, SshTestbed.HOSTS.get(1), port)).as("rejoined with its node id from nodes.conf")
                    .isEqualTo(nodeId);

            ProcessBuilder checkCmd = new ProcessBuilder("redis-cli", "--user", db.plan().auth().orElseThrow().user(),
                    "--cluster", "check", SshTestbed.HOSTS.get(0) + ":" + port).redirectErrorStream(true);
            checkCmd.environment().put("REDISCLI_AUTH", db.plan().auth().orElseThrow().password());
            Process check = checkCmd.start();
            String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(check.exitValue()).as(out).isZero();
            assertThat(out).contains("[OK] All nodes agree about slots configuration.", "[OK] All 16384 slots covered.");

            assertThat(exp.status("db").state()).isEqualTo("RUNNING");
            exp.stop(db);
            List<Event> after = exp.supervision("db").events();
            assertThat(after.get(after.size() - 1).type()).isEqualTo(Event.STOPPED);
            assertThat(types(after, 1)).as("nothing restarted after stop").hasSize(4);
            assertThat(new SshLauncher().probe(List.of(victim, again)).values()).containsOnly(Liveness.GONE);
        }
    }

    /** SIGSTOP over SSH: the process exists but answers nothing, as on a hung host; stop then kills it over SSH. */
    @Test
    void aHungShardIsNoticedByPingKilledOnItsHostAndRestarted() throws Exception {
        try (Experiment exp = Experiment.create("ssh-sup", dir)) {
            Orchestrator db = exp.createOrchestrator(spec().restart(RestartPolicy.ON_FAILURE).build());
            exp.start(db);
            LaunchedShard victim = db.shards().get(0);
            try (SshLauncher.Hosts hosts = SshLauncher.Hosts.recorded(List.of(victim))) {
                assertThat(hosts.forShard(victim).runner().run(SshCommands.kill("STOP", List.of(victim.pid().get())),
                        Duration.ofSeconds(10)).ok()).isTrue();
            }
            long t0 = System.nanoTime();
            List<Event> events = awaitEvents(exp, ev -> types(ev, 0).contains(Event.REJOINED)
                    || types(ev, 0).contains(Event.RESTART_FAILED), Duration.ofSeconds(60));
            assertThat(types(events, 0)).as(events.toString())
                    .containsExactly(Event.SHARD_DOWN, Event.RESTARTING, Event.RESTARTED, Event.REJOINED);
            Event down = events.stream().filter(e -> e.type().equals(Event.SHARD_DOWN)).findFirst().orElseThrow();
            assertThat(down.detail()).contains("has not answered PING for").contains("hung");
            assertThat(new SshLauncher().probe(List.of(victim)).values()).as("the hung process was killed")
                    .containsOnly(Liveness.GONE);
            System.out.printf("ssh: hung shard rejoined %.1f s after SIGSTOP%n", (System.nanoTime() - t0) / 1e9);
            assertThat(exp.status("db").state()).isEqualTo("RUNNING");
            exp.stop(db);
        }
    }

    private static String clusterMyId(Orchestrator db, String host, int port) {
        try (redis.clients.jedis.Jedis j = io.smartsim.launch.cluster.Connections.open(host, port,
                Duration.ofSeconds(2), db.plan().access())) {
            return j.clusterMyId();
        }
    }

    /**
     * Issue 14 point 2: with every core busy (a CPU hog of cores + 2 busy loops beside the test, as other builds on a
     * login node), the open experiment's renewals must keep the shards on every host alive past the first expiry; once
     * renewals stop, the shards stop, and only after the lease they were last given has run out.
     */
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void withALeaseRenewedWhileTheExperimentIsOpenTheShardsStopOnceRenewalsStop() throws Exception {
        Duration lease = Duration.ofSeconds(6);
        Orchestrator db;
        List<LaunchedShard> shards;
        Instant last;
        try (CpuHog hog = CpuHog.start(Duration.ofMinutes(4))) {
            try (Experiment exp = Experiment.create("ssh-sup", dir)) {
                db = exp.createOrchestrator(spec().lease(lease).build());
                long s0 = System.nanoTime();
                exp.start(db);
                System.out.printf("ssh: started under a CPU hog of %d busy loops in %.1f s (load %.1f)%n", hog.size(),
                        (System.nanoTime() - s0) / 1e9, CpuHog.loadAverage());
                shards = db.shards();
                assertThat(shards).allSatisfy(s -> assertThat(s.handle()).containsKey(SshLauncher.HANDLE_GUARD));
                Instant first = exp.supervision("db").leaseExpiry().orElseThrow();
                // The open experiment renews (every 2 s) and pushes to every host: past the expiry the shards had
                // after the start, plus a guard's check (1 s) and the rounding (1 s), they all still serve.
                LeaseWaits.awaitPast(first);
                assertThat(exp.supervision("db").events()).as("no guard saw its lease run out")
                        .noneMatch(e -> e.type().equals(Event.LEASE_EXPIRED));
                assertThat(exp.status("db").state()).isEqualTo("RUNNING");
                assertThat(new SshLauncher().probe(shards).values()).containsOnly(Liveness.ALIVE);
                Instant renewed = exp.supervision("db").leaseExpiry().orElseThrow();
                assertThat(renewed).isAfter(first);
                Path file = Lease.in(db.plan().dir()).file();
                try (SshLauncher.Hosts hosts = SshLauncher.Hosts.recorded(shards)) {
                    for (LaunchedShard s : shards) {
                        String copy = hosts.forShard(s).runner().readFile(file, Duration.ofSeconds(30)).orElseThrow();
                        assertThat(Instant.ofEpochSecond(Long.parseLong(copy.strip())))
                                .as("renewals pushed to the copy on %s", s.handle().get("ssh-host")).isAfter(first);
                    }
                }
                System.out.printf("ssh: under the hog, past the first expiry %s: %d late renewal note(s), %d failed "
                        + "push(es), load %.1f%n", first, exp.supervision("db").events().stream().filter(e -> e.type()
                        .equals(Event.LEASE_RENEWAL_LATE)).count(), exp.supervision("db").events().stream().filter(e ->
                        e.type().equals(Event.LEASE_PUSH_FAILED)).count(), CpuHog.loadAverage());

                exp.detach(db); // left running; once this experiment closes, nobody renews the lease
                // That each host gets its own copy pushed cannot be told here, where the hosts share this file system:
                // aRenewalIsPushedToEachHostsOwnCopyAndItsGuardReadsThatCopy checks it on hosts that do not share it.

                // The last renewal, through db renew's path: the file here, then pushed to every host.
                long r0 = System.nanoTime();
                last = exp.renewLease("db");
                System.out.printf("ssh: one renewal pushed to 3 hosts %d ms%n", (System.nanoTime() - r0) / 1_000_000);
            }
            // Nobody renews now: the shards stop once the lease they were last given ('last') has run out. Waited for
            // with a generous deadline; when they stopped is checked against that expiry, not the wall clock.
            Instant closed = Instant.now();
            SshLauncher ssh = new SshLauncher();
            long until = LeaseWaits.goneBy(last);
            while (ssh.probe(shards).values().stream().anyMatch(l -> l != Liveness.GONE) && System.nanoTime() < until) {
                Thread.sleep(200);
            }
            System.out.printf("ssh: every shard gone %d ms after the last renewal could have happened (detach), "
                    + "%d ms after the lease it was given ran out (load %.1f)%n", Duration.between(closed,
                    Instant.now()).toMillis(), Duration.between(last, Instant.now()).toMillis(), CpuHog.loadAverage());
            assertThat(ssh.probe(shards).values()).as("every shard gone once the lease ran out at %s", last)
                    .containsOnly(Liveness.GONE);
        }
        try (Experiment exp = Experiment.reconnect(dir)) {
            OrchestratorStatus s = exp.status("db");
            assertThat(s.state()).isEqualTo("STALE");
            assertThat(s.error().orElseThrow()).as(exp.supervision("db").events().toString()).contains("lease ran out");
            assertThat(exp.supervision("db").leaseExpiry()).as("nothing renewed after the last renewal").contains(last);
            List<Event> expired = exp.supervision("db").events().stream()
                    .filter(e -> e.type().equals(Event.LEASE_EXPIRED) && e.shard().isPresent()).toList();
            assertThat(expired).as("one lease-expired per guard").hasSize(3);
            LeaseWaits.assertStoppedOnlyAfter(expired, last);
            exp.stop(exp.orchestrator("db"));
            assertThat(exp.status("db").state()).isEqualTo("STOPPED");
        }
        assertThat(Processes.leftUnder(dir, Duration.ofSeconds(3))).as("no shard or lease guard on any host").isEmpty();
    }

    /**
     * On hosts that do not share the experiment directory ({@link SeparateHosts}), so each host's lease copy is its
     * own: start writes each one, a push reaches each host's copy (and nothing here), a host that cannot be reached
     * keeps its old expiry while the others get the new one, a renewal reaches all three, a late push of an earlier
     * expiry takes nothing back, and a guard goes by its own host's copy: an expiry in the past there stops that host's
     * shard and no other.
     */
    @Test
    void aRenewalIsPushedToEachHostsOwnCopyAndItsGuardReadsThatCopy(@TempDir Path hostsDir) throws Exception {
        leftovers.dir(hostsDir);
        try (SeparateHosts hosts = SeparateHosts.start(dir, hostsDir, leftovers)) {
            List<String> names = SshTestbed.HOSTS;
            // The hosts do not see this directory, nor each other's: a file one writes, only it reads.
            Path probe = dir.resolve("written-on-" + names.get(0));
            try (SshCommandRunner r = hosts.runner(names.get(0))) {
                r.writeFile(probe, "mine\n", Duration.ofSeconds(10));
            }
            assertThat(hosts.read(names.get(0), probe)).contains("mine\n");
            assertThat(hosts.read(names.get(1), probe)).as("%s, seen from another host", hosts).isEmpty();
            assertThat(probe).as("the same path here").doesNotExist();

            Orchestrator db;
            List<LaunchedShard> shards;
            Instant beforeStart = Instant.now();
            try (Experiment exp = Experiment.create("ssh-sup", dir)) {
                db = exp.createOrchestrator(spec().lease(Duration.ofSeconds(30))
                        .launcherOption("ssh-config", hosts.sshConfig().toString()).build());
                exp.start(db);
                shards = db.shards();
                exp.detach(db); // nobody renews from here on but this test
            }
            Instant written = Instant.now();
            Path file = Lease.in(db.plan().dir()).file();
            String here = java.nio.file.Files.readString(file);
            // Each copy: a whole lease from a moment between beforeStart and now (the one start wrote there, or a
            // later one a renewal of the open Experiment pushed: one is due every 10 s, and a start that took that
            // long renews the file here, then pushes it to the hosts it has so far), never more. Not the file here:
            // a host's copy is written on its own, a second apart from it either way.
            long latestCopy = 0;
            for (String h : names) {
                long copy = Long.parseLong(hosts.read(h, file).orElseThrow().strip());
                assertThat(copy).as("the copy on %s (here: %s)", h, here.strip()).isBetween(
                        beforeStart.plusSeconds(30).getEpochSecond(), written.plusSeconds(30 + 1).getEpochSecond());
                latestCopy = Math.max(latestCopy, copy);
            }

            // A renewal through db renew's path: the file here, then every host's copy. Made once the clock has
            // passed the second the latest copy was written in, so the renewal is later than every copy.
            while (Instant.now().getEpochSecond() < latestCopy - 30 + 1) {
                Thread.sleep(100);
            }
            Instant last;
            try (Experiment exp = Experiment.reconnect(dir)) {
                last = exp.renewLease("db");
            }
            assertThat(last.getEpochSecond()).isGreaterThan(latestCopy);
            assertThat(java.nio.file.Files.readString(file)).isEqualTo(last.getEpochSecond() + "\n");
            for (String h : names) {
                assertThat(hosts.read(h, file)).as("renewed on %s", h).contains(last.getEpochSecond() + "\n");
            }

            // A push writes each host's own copy over SSH, one command per host; the file here is not touched.
            Instant pushed = last.plusSeconds(60);
            new SshLauncher().pushLease(db.plan(), shards, pushed);
            for (String h : names) {
                assertThat(hosts.read(h, file)).as("lease file on %s", h).contains(pushed.getEpochSecond() + "\n");
            }
            assertThat(java.nio.file.Files.readString(file)).as("the file here").isEqualTo(last.getEpochSecond()
                    + "\n");

            // Shard 2 recorded with an SSH port nothing listens on: its host keeps the old expiry, the error names
            // it; shard 0's host gets the new one; shard 1's host, not among these shards, keeps the old one.
            Instant unreachableTry = pushed.plusSeconds(1);
            LaunchedShard s2 = shards.get(2);
            java.util.Map<String, String> h2 = new java.util.LinkedHashMap<>(s2.handle());
            h2.put(SshOptions.PORT, Integer.toString(leftovers.freeBase(1)));
            List<LaunchedShard> oneUnreachable = List.of(shards.get(0), new LaunchedShard(s2.index(), s2.name(),
                    s2.host(), s2.port(), s2.pid(), s2.processStart(), h2));
            assertThatThrownBy(() -> new SshLauncher().pushLease(db.plan(), oneUnreachable, unreachableTry))
                    .isInstanceOf(io.smartsim.launch.error.SchedulerUnreachableException.class)
                    .hasMessageContaining("not on every host").hasMessageContaining("host 127.0.1.3: cannot reach");
            assertThat(hosts.read(names.get(0), file)).contains(unreachableTry.getEpochSecond() + "\n");
            assertThat(hosts.read(names.get(1), file)).contains(pushed.getEpochSecond() + "\n");
            assertThat(hosts.read(names.get(2), file)).as("the unreachable host's copy")
                    .contains(pushed.getEpochSecond() + "\n");

            // A push that lands after a later one (a slow host, a shared file system) takes nothing back.
            new SshLauncher().pushLease(db.plan(), shards, last);
            assertThat(hosts.read(names.get(0), file)).contains(unreachableTry.getEpochSecond() + "\n");
            assertThat(hosts.read(names.get(1), file)).contains(pushed.getEpochSecond() + "\n");
            assertThat(hosts.read(names.get(2), file)).contains(pushed.getEpochSecond() + "\n");

            // Each guard reads its own host's copy: a copy that ran out on host 1 (written there directly, since no
            // push takes a lease back) stops shard 1 only.
            try (SshCommandRunner r = hosts.runner(names.get(1))) {
                r.writeFile(file, Instant.now().minusSeconds(1).getEpochSecond() + "\n", Duration.ofSeconds(10));
            }
            SshLauncher ssh = new SshLauncher();
            long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (ssh.probe(shards).get(1) != Liveness.GONE && System.nanoTime() < until) {
                Thread.sleep(200);
            }
            assertThat(ssh.probe(shards)).as("only the shard of the host whose copy ran out stopped")
                    .containsEntry(0, Liveness.ALIVE).containsEntry(1, Liveness.GONE).containsEntry(2, Liveness.ALIVE);
            // Its guard logged that on its own host, in the events log there (docs/supervision.md says so).
            assertThat(hosts.read(names.get(1), db.plan().dir().resolve(EventLog.FILE))).get().asString()
                    .contains("\"type\":\"lease-expired\",\"shard\":1");

            try (Experiment exp = Experiment.reconnect(dir)) {
                exp.stop(exp.orchestrator("db"));
            }
            assertThat(ssh.probe(shards).values()).containsOnly(Liveness.GONE);
        }
    }
}
