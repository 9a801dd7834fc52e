package io.smartsim.launch.dashboard;

import io.smartsim.launch.status.ColocatedNode;
import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Model;
import io.smartsim.launch.colocated.ColocatedStatus;
import io.smartsim.launch.spec.ColocatedDb;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.telemetry.TelemetryOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A colocated database that hangs (a real redis-server, SIGSTOPped: it accepts connections and never answers) beside
 * a healthy one, each under a model of its own (the local launcher, the real wrapper). Before, the dashboard pinged
 * them on its refresh thread: every refresh waited up to the PING's 2 s per hung node, so the whole page went stale,
 * and every PING given up left a thread blocked on the hung server for good.
 */
@Timeout(240)
class DashboardHungColocatedIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest();
    @TempDir
    Path dir;

    @Test
    void aHungColocatedDatabaseShowsNotAnsweringWithoutHoldingUpTheRefreshOrTheOtherChecks() throws Exception {
        Path app = dir.resolve("app.sh");
        Files.writeString(app, "#!/bin/bash\nend=$((SECONDS + 120))\n"
                + "while [ ! -e \"$1\" ] && [ \"$SECONDS\" -lt \"$end\" ]; do sleep 0.05; done\necho app done\n");
        Files.setPosixFilePermissions(app, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path go = dir.resolve("go");
        Path expDir = dir.resolve("exp");
        try (Experiment exp = Experiment.create("hung-it", expDir)) {
            Model hung = exp.createModel(ModelSpec.builder("hung", app.toString()).args(go.toString())
                    .colocatedDb(ColocatedDb.unixSocket(dir.resolve("hung.sock").toString(), 0700)).build());
            Model ok = exp.createModel(ModelSpec.builder("ok", app.toString()).args(go.toString())
                    .colocatedDb(ColocatedDb.unixSocket(dir.resolve("ok.sock").toString(), 0700)).build());
            exp.start(hung, ok);
            long pid = -1;
            try {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!healthy(hung) || !healthy(ok)) {
                    assertThat(System.nanoTime()).as("both databases answer within 60 s").isLessThan(until);
                    Thread.sleep(20);
                }
                pid = hung.colocatedDatabases().get(0).pid();
                TelemetryIT.signal("STOP", pid);

                try (Dashboard d = Dashboard.start(expDir, HttpAccess.forBind("127.0.0.1"), 0,
                        TelemetryOptions.defaults())) {
                    leftovers.port(d.server().port());
                    URI base = d.server().uri();

                    // shown as what it is: running, not answering; never healthy, never left out
                    JsonNode st = await(base, "the hung database listed as not answering", s ->
                            "not answering".equals(row(s, "hung").path("health").asText()));
                    assertThat(row(st, "hung").path("alive").asBoolean()).isTrue();
                    assertThat(row(st, "hung").path("pid").asLong()).isEqualTo(pid);
                    assertThat(row(st, "ok").path("health").asText()).isEqualTo("healthy");

                    // A state made while a check of the hung one runs, in which the healthy one's last check ended
                    // after that check began: the refresh did not wait for the hung PING, nor did the other model's
                    // check. (Checks on the refresh thread never let a state see one running.)
                    JsonNode during = await(base, "a state made during a check of the hung database, with a check of "
                            + "the healthy one that ended after it began", s -> {
                        JsonNode h = row(s, "hung");
                        JsonNode o = row(s, "ok");
                        return !h.path("checkingSince").isNull() && !h.path("checkingSince").isMissingNode()
                                && !o.path("checked").isNull() && !o.path("checked").isMissingNode()
                                && Instant.parse(o.path("checked").asText())
                                .isAfter(Instant.parse(h.path("checkingSince").asText()));
                    });
                    assertThat(row(during, "hung").path("health").asText()).isEqualTo("not answering");
                    assertThat(row(during, "ok").path("health").asText()).isEqualTo("healthy");

                    // Several checks of the hung one later, no thread is left waiting on it: at most one check per
                    // model runs (a PING given up used to leave its thread blocked in a read for good).
                    Set<String> checks = new HashSet<>();
                    await(base, "three checks of the hung database ended", s -> {
                        JsonNode c = row(s, "hung").path("checked");
                        if (!c.isNull() && !c.isMissingNode()) {
                            checks.add(c.asText());
                        }
                        return checks.size() >= 3;
                    });
                    List<Thread> pinging = Thread.getAllStackTraces().entrySet().stream()
                            .filter(e -> Arrays.stream(e.getValue()).anyMatch(f -> f.getClassName()
                                    .startsWith(ColocatedStatus.class.getName())))
                            .map(java.util.Map.Entry::getKey).toList();
                    assertThat(pinging).as("threads in ColocatedStatus after %d checks of the hung database",
                            checks.size()).hasSizeLessThanOrEqualTo(2);
                }
            } finally {
                if (pid > 0) {
                    TelemetryIT.signal("CONT", pid);
                }
                Files.createFile(go);
            }
            assertThat(exp.waitFor(Duration.ofSeconds(60), hung, ok)).isTrue();
        }
    }

    private static boolean healthy(Model m) {
        List<ColocatedNode> nodes = m.colocatedDatabases();
        return nodes.size() == 1 && nodes.get(0).health().equals("healthy");
    }

    /** The model's only colocated row in a state (a missing node when there is none). */
    private static JsonNode row(JsonNode state, String model) {
        return state.path("colocated").path(model).path(0);
    }

    /** Polls {@code /api/state} until {@code until} holds (60 s at most); the state that did. */
    private static JsonNode await(URI base, String what, Predicate<JsonNode> until) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode last = null;
        while (System.nanoTime() < end) {
            last = DashboardIT.JSON.readTree(DashboardIT.get(base.resolve("/api/state")).body());
            if (until.test(last)) {
                return last;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(what + ": not within 60 s; the last state: " + last);
    }
}
