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
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A killed lease guard through the jar: the {@code db watch} process that {@code db start --lease} leaves starts it
 * again ({@code guard-restarted} in {@code db status}), and once nobody renews, the shard with the restarted guard
 * stops itself like the others.
 */
class GuardRestartCliIT {
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

    /** Live processes of this test's experiment directory whose command line contains {@code what}. */
    private List<ProcessHandle> ours(String what) {
        return new ArrayList<>(ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
                .filter(h -> h.info().commandLine().map(c -> c.contains(exp.toString()) && c.contains(what))
                        .orElse(false)).filter(h -> !zombie(h.pid())).toList());
    }

    /** The guard process watching server {@code pid}: {@code /bin/bash .../lease-guard.sh PID SHARD}. */
    private Optional<ProcessHandle> guardOf(long pid) {
        return ours("lease-guard.sh").stream().filter(h -> h.info().arguments().map(a -> a.length > 1
                && a[1].equals(Long.toString(pid))).orElse(false)).findFirst();
    }

    private static boolean zombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
        } catch (IOException e) {
            return true;
        }
    }

    private JsonNode status() throws Exception {
        JarRunner.Result r = jar.cli("db", "status", "--exp-dir", exp.toString(), "--json");
        return Json.mapper().readTree(r.out()).get("orchestrators").get(0);
    }

    private static List<JsonNode> events(JsonNode entry, String type) {
        List<JsonNode> out = new ArrayList<>();
        entry.get("supervision").get("events").forEach(e -> {
            if (e.get("type").asText().equals(type)) {
                out.add(e);
            }
        });
        return out;
    }

    /**
     * {@code db renew} every 2 s on a thread of its own, as a workflow tool's loop would, until closed; close then
     * checks that every renewal succeeded (each is a JVM start: however slow, the loop keeps the lease well ahead).
     */
    private final class Renewals implements AutoCloseable {
        private final List<String> failed = java.util.Collections.synchronizedList(new ArrayList<>());
        private volatile boolean stop;
        private final Thread thread = new Thread(() -> {
            while (!stop) {
                try {
                    JarRunner.Result renew = jar.cli("db", "renew", "--exp-dir", exp.toString());
                    if (renew.exit() != 0) {
                        failed.add(renew.toString());
                    }
                    Thread.sleep(2000); // the pace of a workflow's renewals, not a wait for anything
                } catch (Exception e) {
                    failed.add(e.toString());
                    return;
                }
            }
        }, "db-renew-loop");

        Renewals() {
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            thread.join(Duration.ofMinutes(2).toMillis());
            assertThat(thread.isAlive()).as("the renew loop ended").isFalse();
            assertThat(failed).as("every db renew succeeded").isEmpty();
        }
    }

    @Test
    void theWatchdogOfDbStartStartsAKilledGuardAgainAndTheLeaseStillEndsTheShard() throws Exception {
        // From a shell that ends at once: the watchdog does not renew; a loop of db renew here does (as a workflow
        // tool would), until it stops below, then nobody. 12 s: each db renew is a JVM start, seconds on a busy machine.
        JarRunner.Result start = jar.run(List.of("sh", "-c", "\"$@\"; exit $?", "sh", JarRunner.javaBinary(), "-jar",
                JarRunner.JAR.toString(), "db", "start", "--exp-dir", exp.toString(), "--per-node", "3", "--port",
                Integer.toString(port), "--lease", "12s"), Duration.ofSeconds(120));
        assertThat(start.exit()).as(start.toString()).isZero();
        long watchdog;
        long server;
        ProcessHandle killed;
        try (Renewals renewals = new Renewals()) {
            JsonNode s = status();
            watchdog = s.get("supervision").get("watchdogPid").asLong();
            server = s.get("shards").get(1).get("pid").asLong();
            killed = guardOf(server).orElseThrow(() -> new AssertionError("no guard for shard 1"));
            killed.destroyForcibly(); // kill -9
            killed.onExit().orTimeout(5, TimeUnit.SECONDS).join();

            long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            JsonNode after = status();
            while (events(after, "guard-restarted").isEmpty() && System.nanoTime() < until) {
                Thread.sleep(500);
                after = status();
            }
            List<JsonNode> restarted = events(after, "guard-restarted");
            assertThat(restarted).as(after.toString()).hasSize(1);
            ProcessHandle again = guardOf(server).orElseThrow(() -> new AssertionError("no new guard for shard 1"));
            assertThat(again.pid()).isNotEqualTo(killed.pid());
            assertThat(restarted.get(0).get("shard").asInt()).isEqualTo(1);
            assertThat(restarted.get(0).get("detail").asText()).isEqualTo("its lease guard (pid " + killed.pid()
                    + ") was gone while the shard (pid " + server + ") runs: started it again as pid " + again.pid());
            // Started by the watchdog through the local launcher, which leaves servers and guards no child of any
            // JVM (a waiting subshell is their parent, init its): the launcher's pid file names it, the event too.
            assertThat(again.parent().map(ProcessHandle::pid)).as("no child of the watchdog").isNotEqualTo(
                    java.util.Optional.of(watchdog));
            assertThat(exp.resolve("orchestrator/orchestrator_1/orchestrator_1.lease.out.pid"))
                    .as("spawned by the launcher").content().isEqualToIgnoringWhitespace(Long.toString(again.pid()));
            Path manifest = exp.resolve("manifest.json");
            assertThat(Json.mapper().readTree(manifest.toFile()).get("orchestrators").get(0).get("shards").get(1)
                    .get("handle").get("leaseGuardPid").asText()).as("recorded, so db stop ends it")
                    .isEqualTo(Long.toString(again.pid()));
            // Still renewed: the table's last 5 events hold no lease-expired, so the restart is among them.
            JarRunner.Result text = jar.cli("db", "status", "--exp-dir", exp.toString());
            assertThat(text.out()).containsPattern("guard-restarted +1 +its lease guard \\(pid " + killed.pid() + "\\)");
        }

        // Nobody renews from here: every shard stops, the one with the restarted guard too, once the last expiry
        // written has passed (waited for generously; checked against it below).
        Instant last = Instant.ofEpochSecond(Long.parseLong(Files.readString(exp.resolve("orchestrator")
                .resolve("lease")).strip()));
        long until = System.nanoTime() + Math.max(0, Duration.between(Instant.now(), last).plus(LeaseWaits.GRACE)
                .toNanos());
        JsonNode gone = status();
        while (!"STALE".equals(gone.get("state").asText()) && System.nanoTime() < until) {
            Thread.sleep(250);
            gone = status();
        }
        assertThat(gone.get("state").asText()).as(gone.toString()).isEqualTo("STALE");
        assertThat(events(gone, "lease-expired").stream().filter(e -> e.get("shard").isInt())
                .map(e -> e.get("shard").asInt())).containsExactlyInAnyOrder(0, 1, 2);
        assertThat(events(gone, "lease-expired")).filteredOn(e -> e.get("shard").isInt())
                .as("each guard acted only once the lease it had (%s) ran out", last)
                .allSatisfy(e -> assertThat(Instant.parse(e.get("time").asText())).isAfterOrEqualTo(last));
        assertThat(ProcessHandle.of(server).filter(h -> !zombie(h.pid()))).isEmpty();
        until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (ProcessHandle.of(watchdog).filter(h -> !zombie(h.pid())).isPresent() && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        assertThat(ProcessHandle.of(watchdog).filter(h -> !zombie(h.pid()))).as("the watchdog ends by itself")
                .isEmpty();
        JarRunner.Result stop = jar.cli("db", "stop", "--exp-dir", exp.toString());
        assertThat(stop.exit()).as(stop.toString()).isZero();
    }
}
