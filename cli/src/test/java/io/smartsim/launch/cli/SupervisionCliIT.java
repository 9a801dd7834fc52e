package io.smartsim.launch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.testing.LeaseWaits;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 7 items 2 and 5 through the jar: {@code db start --restart on-failure} leaves a watchdog process that restarts
 * a killed shard, {@code db status} shows the events, {@code db stop} ends the watchdog too; {@code --lease} with
 * {@code db renew}, and the shards stopping themselves once nobody renews.
 */
class SupervisionCliIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path tmp;

    private Path exp;
    private JarRunner jar;
    private int port;

    @BeforeEach
    void setUp() throws IOException {
        TestServers.assumeJarAndRedis();
        exp = tmp.resolve("exp");
        jar = JarRunner.in(tmp);
        port = leftovers.shardPorts(TestServers.freeBlock(18000, 3), 3);
    }

    private static boolean zombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
        } catch (IOException e) {
            return true;
        }
    }

    /** {@code db start} run from a shell that ends right after it: the controller of its lease is gone at once. */
    private JarRunner.Result startFromShortLivedShell(String... flags) throws Exception {
        List<String> argv = new ArrayList<>(List.of("sh", "-c", "\"$@\"; exit $?", "sh", JarRunner.javaBinary(),
                "-jar", JarRunner.JAR.toString(), "db", "start", "--exp-dir", exp.toString(), "--per-node", "3",
                "--port", Integer.toString(port)));
        argv.addAll(List.of(flags));
        JarRunner.Result r = jar.run(argv, Duration.ofSeconds(120));
        assertThat(r.exit()).as(r.toString()).isZero();
        return r;
    }

    /** When the lease runs out, as its file says now (Unix seconds). */
    private Instant leaseExpiry() throws IOException {
        return Instant.ofEpochSecond(Long.parseLong(Files.readString(exp.resolve("orchestrator").resolve("lease"))
                .strip()));
    }

    private JsonNode status() throws Exception {
        JarRunner.Result r = jar.cli("db", "status", "--exp-dir", exp.toString(), "--json");
        return Json.mapper().readTree(r.out()).get("orchestrators").get(0);
    }

    private JsonNode awaitStatus(Predicate<JsonNode> done, Duration limit) throws Exception {
        long until = System.nanoTime() + limit.toNanos();
        JsonNode s = status();
        while (!done.test(s) && System.nanoTime() < until) {
            Thread.sleep(250);
            s = status();
        }
        return s;
    }

    private static List<String> events(JsonNode entry, int shard) {
        List<String> out = new ArrayList<>();
        entry.get("supervision").get("events").forEach(e -> {
            if (e.get("shard").isInt() && e.get("shard").asInt() == shard) {
                out.add(e.get("type").asText());
            }
        });
        return out;
    }

    private static List<String> events(JsonNode entry) {
        List<String> out = new ArrayList<>();
        entry.get("supervision").get("events").forEach(e -> out.add(e.get("type").asText()));
        return out;
    }

    @Test
    void dbStartLeavesAWatchdogThatRestartsAKilledShardAndDbStopEndsIt() throws Exception {
        JarRunner.Result start = startFromShortLivedShell("--restart", "on-failure");
        assertThat(start.err()).contains("watchdog of 'orchestrator' running as pid");
        assertThat(start.out()).contains("watchdog: pid ");
        JsonNode s = status();
        long watchdog = s.get("supervision").get("watchdogPid").asLong();
        assertThat(ProcessHandle.of(watchdog).map(ProcessHandle::isAlive)).contains(true);
        // Supervision decided once: the watchdog process is the only supervisor this start had, not a watchdog thread
        // in db start's JVM started and closed again at the hand-over (its JVM may still be starting: wait for it).
        s = awaitStatus(x -> events(x).contains("supervising"), Duration.ofSeconds(30));
        assertThat(events(s)).as(s.toString()).containsExactly("started", "healthy", "supervising");
        assertThat(s.get("supervision").get("events").get(2).get("detail").asText())
                .contains("watchdog (pid " + watchdog + ")");
        long victim = s.get("shards").get(1).get("pid").asLong();
        ProcessHandle.of(victim).orElseThrow().destroyForcibly(); // kill -9

        // Health is checked before the events are read: wait for a status that saw the rejoined shard too.
        JsonNode after = awaitStatus(x -> events(x, 1).contains("rejoined") && "RUNNING".equals(x.get("state").asText())
                || events(x, 1).contains("restart-failed"), Duration.ofSeconds(40));
        assertThat(events(after, 1)).as(after.toString())
                .containsExactly("shard-down", "restarting", "restarted", "rejoined");
        assertThat(after.get("state").asText()).isEqualTo("RUNNING");
        assertThat(after.get("shards").get(1).get("pid").asLong()).isNotEqualTo(victim);
        JarRunner.Result text = jar.cli("db", "status", "--exp-dir", exp.toString());
        assertThat(text.exit()).as(text.toString()).isZero();
        assertThat(text.out()).contains("supervision: restart on-failure, watchdog pid " + watchdog)
                .contains("events (last 5 of ").containsPattern("rejoined +1 +cluster_state:ok");

        JarRunner.Result stop = jar.cli("db", "stop", "--exp-dir", exp.toString());
        assertThat(stop.exit()).as(stop.toString()).isZero();
        assertThat(stop.err()).contains("stopping the watchdog of 'orchestrator' (pid " + watchdog + ")");
        assertThat(ProcessHandle.of(watchdog).filter(h -> !zombie(h.pid()))).as("watchdog gone after db stop")
                .isEmpty();
        List<String> all = events(status());
        assertThat(all.subList(all.size() - 2, all.size())).containsExactly("watchdog-exit", "stopped");
        assertThat(Files.readString(exp.resolve("orchestrator").resolve("watchdog.log"))).contains("watching");
    }

    @Test
    void aLeaseRenewedByDbRenewKeepsShardsUpAndOnceNobodyRenewsTheyStopThemselves() throws Exception {
        // 20 s: each db renew and db status here is a JVM start, which a busy machine can make take seconds (5.4 s
        // for one db status beside a CPU hog, load 9): a renewal followed by a status must stay well inside it.
        startFromShortLivedShell("--lease", "20s");
        Instant first = leaseExpiry();
        // db renew, a renewal every 2 s, until the clock has passed the expiry db start left (and a guard's check
        // after it) and the watchdog has seen its controller go: the shards then still serve only because of these
        // renewals. Every status is asked right after a renewal, inside the lease that renewal gave (a renewal, a
        // status wait and a text status, three JVMs in a row, once outlasted a 10 s lease under a CPU hog).
        JsonNode renewed = null;
        long renewUntil = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (renewed == null && System.nanoTime() < renewUntil) {
            JarRunner.Result renew = jar.cli("db", "renew", "--exp-dir", exp.toString());
            assertThat(renew.exit()).as(renew.toString()).isZero();
            assertThat(renew.out()).contains("renewed the lease of 'orchestrator'");
            if (Instant.now().isAfter(first.plus(LeaseWaits.GUARD_SLACK))) {
                JsonNode x = status();
                if (events(x).contains("controller-gone")) {
                    renewed = x;
                }
            } else {
                Thread.sleep(2000); // the pace of the renewals, not a wait for anything
            }
        }
        assertThat(renewed).as("a status showing the watchdog saw its controller go, within 120 s").isNotNull();
        assertThat(events(renewed)).as("the shell that ran db start has ended: its watchdog renews no more")
                .contains("controller-gone").doesNotContain("lease-expired");
        // The text status, right after a renewal: inside the lease that renewal gave.
        JarRunner.Result renew = jar.cli("db", "renew", "--exp-dir", exp.toString());
        assertThat(renew.exit()).as(renew.toString()).isZero();
        JarRunner.Result up = jar.cli("db", "status", "--exp-dir", exp.toString());
        assertThat(up.exit()).as(up.toString()).isZero();
        assertThat(up.out()).contains("RUNNING").containsPattern("lease 20s, runs out at \\S+ \\(in \\d+ s\\)");

        // Nobody renews now: the shards stop once the last expiry written has passed (waited for generously).
        Instant last = leaseExpiry();
        JsonNode gone = awaitStatus(x -> "STALE".equals(x.get("state").asText()),
                Duration.between(Instant.now(), last).plus(LeaseWaits.GRACE));
        assertThat(gone.get("state").asText()).isEqualTo("STALE");
        assertThat(gone.get("supervision").get("events")).filteredOn(e -> e.get("type").asText().equals("lease-expired")
                && e.get("shard").isInt()).as("each guard acted only once the lease it had (%s) ran out", last)
                .isNotEmpty().allSatisfy(e -> assertThat(Instant.parse(e.get("time").asText())).isAfterOrEqualTo(last));
        assertThat(gone.get("error").asText()).contains("lease ran out").contains("stopped themselves");
        assertThat(gone.get("supervision").get("leaseExpired").asBoolean()).isTrue();
        assertThat(events(gone).stream().filter("lease-expired"::equals).count()).as(gone.toString())
                .isGreaterThanOrEqualTo(3);
        long watchdog = gone.get("supervision").get("watchdogPid").asLong();
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (ProcessHandle.of(watchdog).filter(h -> !zombie(h.pid())).isPresent() && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        assertThat(ProcessHandle.of(watchdog).filter(h -> !zombie(h.pid()))).as("the watchdog ends by itself")
                .isEmpty();

        JarRunner.Result late = jar.cli("db", "renew", "--exp-dir", exp.toString());
        assertThat(late.exit()).isEqualTo(1);
        assertThat(late.err()).contains("ran out at").contains("start it again");
        JarRunner.Result stop = jar.cli("db", "stop", "--exp-dir", exp.toString());
        assertThat(stop.exit()).as(stop.toString()).isZero();
        assertThat(status().get("state").asText()).isEqualTo("STOPPED");
    }

    /**
     * A watchdog that db stop cannot signal (recorded on another host, as when db start ran inside a batch job): the
     * stop request file makes it restart nothing and end. Here the host recorded is rewritten to force that path.
     */
    @Test
    void aWatchdogOnAnotherHostIsStoppedThroughTheStopRequestFile() throws Exception {
        startFromShortLivedShell("--restart", "on-failure");
        long watchdog = status().get("supervision").get("watchdogPid").asLong();
        Path manifest = exp.resolve("manifest.json");
        com.fasterxml.jackson.databind.node.ObjectNode m = (com.fasterxml.jackson.databind.node.ObjectNode)
                Json.mapper().readTree(manifest.toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) m.get("orchestrators").get(0).get("supervision"))
                .put("watchdogHost", "another-node");
        Json.mapper().writeValue(manifest.toFile(), m);
        JarRunner.Result stop = jar.cli("db", "stop", "--exp-dir", exp.toString());
        assertThat(stop.exit()).as(stop.toString()).isZero();
        assertThat(stop.err()).contains("asking the watchdog of 'orchestrator' on another-node (pid " + watchdog
                + ") to stop");
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (ProcessHandle.of(watchdog).filter(h -> !zombie(h.pid())).isPresent() && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        assertThat(ProcessHandle.of(watchdog).filter(h -> !zombie(h.pid()))).as("watchdog ended").isEmpty();
        List<String> all = events(status());
        assertThat(all).as("no restart of the shards db stop shut down").doesNotContain("restarting");
        assertThat(all).contains("watchdog-exit").endsWith("stopped");
    }

    @Test
    void aLauncherThatCannotSuperviseIsRefusedByNameAtPlanTime() throws Exception {
        JarRunner.Result r = jar.cli("db", "plan", "--exp-dir", exp.toString(), "--launcher", "pbs", "--nodes", "3",
                "--batch", "--restart", "on-failure");
        assertThat(r.exit()).as(r.toString()).isEqualTo(2);
        assertThat(r.err()).contains("--restart on-failure needs an existing job with the pbs launcher (--alloc JOBID "
                + "or PBS_JOBID), not --batch");
        JarRunner.Result lease = jar.cli("db", "plan", "--exp-dir", exp.toString(), "--launcher", "pbs", "--nodes", "3",
                "--lease", "10m", "--remote", "login.example.org");
        assertThat(lease.exit()).as(lease.toString()).isEqualTo(2);
        assertThat(lease.err()).contains("--lease is not supported with --remote yet");
    }
}
