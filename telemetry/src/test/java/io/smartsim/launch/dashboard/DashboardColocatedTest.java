package io.smartsim.launch.dashboard;

import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.colocated.ColocatedPlanner;
import io.smartsim.launch.colocated.ColocatedStatus;
import io.smartsim.launch.status.ColocatedNode;
import io.smartsim.launch.spec.ColocatedDb;
import io.smartsim.launch.spec.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dashboard's rows of a model's colocated databases, from the files the wrapper leaves in the model's directory
 * (written here as it writes them) and the running ones {@link ColocatedStatus#nodes} lists (given here). The real
 * wrapper and server: {@code DashboardBrowserIT}.
 */
@Timeout(30)
class DashboardColocatedTest {
    @TempDir
    Path dir;

    ColocatedPlan plan() {
        return ColocatedPlanner.plan("sim", dir, ColocatedDb.tcp(6780));
    }

    static final Instant T0 = Instant.parse("2026-12-06T10:00:00Z");
    static final Instant NOW = T0.plusSeconds(3);

    /** A finished check at {@link #T0} that found {@code nodes}, none running now. */
    static ColocatedChecks.Check found(ColocatedNode... nodes) {
        return new ColocatedChecks.Check(List.of(nodes), T0, null);
    }

    @Test
    void noFilesNoRows() {
        assertThat(Dashboard.colocated(plan(), found(), true, NOW)).isEmpty();
        assertThat(Dashboard.colocated(ColocatedPlanner.plan("sim", dir.resolve("never-ran"), ColocatedDb.tcp(6780)),
                found(), false, NOW)).isEmpty();
    }

    @Test
    void aRunningOneHasTheFieldsDbStatusShowsAndTheNodesLeftWithALogOnlyEndedOrNotRunning() throws Exception {
        ColocatedPlan p = plan();
        Files.writeString(p.log("n1"), "4242:C 06 Dec 2026 10:00:00.000 # oO0OoO0OoO0Oo Redis is starting\n"
                + "4242:M 06 Dec 2026 10:00:00.001 * Ready to accept connections tcp\n");
        Files.writeString(p.pidFile("n1"), "4242\n");
        Files.writeString(p.log("n2"), "31:C 06 Dec 2026 09:00:00.000 # Redis is starting\n"
                + "4343:M 06 Dec 2026 10:00:00.000 * Ready to accept connections tcp\n"
                + "4343:M 06 Dec 2026 10:00:09.000 # User requested shutdown...\n"
                + "4343:M 06 Dec 2026 10:00:09.100 # Redis is now ready to exit, bye bye...\n");
        Files.writeString(p.dir().resolve("colocated-n2.log.1"), "1:M the previous run's log\n");
        Files.writeString(p.dir().resolve("colocated-n3.log"), "");
        ColocatedNode n1 = new ColocatedNode("n1", 4242, true, true, "127.0.0.1:6780", p.log("n1"));

        List<Dashboard.ColocatedRow> ended = Dashboard.colocated(p, found(n1), false, NOW);
        assertThat(ended).containsExactly(
                new Dashboard.ColocatedRow("n1", 4242L, true, true, "127.0.0.1:6780", p.log("n1"), "healthy", null,
                        T0, 3L, null),
                new Dashboard.ColocatedRow("n2", 4343L, false, false, "127.0.0.1:6780", p.log("n2"), "ended", null,
                        T0, 3L, null),
                new Dashboard.ColocatedRow("n3", null, false, false, "127.0.0.1:6780", p.log("n3"), "ended", null,
                        T0, 3L, null));
        // while the model runs, a node without a server is starting or being stopped: not "ended" yet
        assertThat(Dashboard.colocated(p, found(n1), true, NOW)).extracting(Dashboard.ColocatedRow::health)
                .containsExactly("healthy", "not running", "not running");

        // in JSON, a running one has exactly the fields db status --json gives it (ColocatedNode), and problem
        var mapper = Json.mapper();
        var status = mapper.readTree(mapper.writeValueAsString(n1));
        var row = mapper.readTree(mapper.writeValueAsString(ended.get(0)));
        assertThat(status.get("health").asText()).isEqualTo("healthy");
        status.fieldNames().forEachRemaining(f -> assertThat(row.get(f)).as(f).isEqualTo(status.get(f)));
        assertThat(row.get("problem").isNull()).isTrue();
        assertThat(row.get("checked").asText()).isEqualTo("2026-12-06T10:00:00Z");
        assertThat(row.get("ageSeconds").asLong()).isEqualTo(3);
        assertThat(row.get("checkingSince").isNull()).isTrue();
        assertThat(row.size()).isEqualTo(status.size() + 4);
    }

    /**
     * A server whose pid file the last check did not see (it started since, or no check has ended yet) is "checking",
     * never healthy and never left out, with the pid its file names and the check that runs now; the one the last
     * check found not answering stays so, with that check's age.
     */
    @Test
    void aNodeTheLastCheckDidNotSeeIsCheckingAndTheCheckRunningNowIsShown() throws Exception {
        ColocatedPlan p = plan();
        long self = ProcessHandle.current().pid();
        Files.writeString(p.pidFile("n1"), "4242\n");
        Files.writeString(p.pidFile("n2"), self + "\n");
        ColocatedNode hung = new ColocatedNode("n1", 4242, true, false, "127.0.0.1:6780", p.log("n1"));
        Instant running = T0.plusSeconds(1);
        List<Dashboard.ColocatedRow> rows = Dashboard.colocated(p, new ColocatedChecks.Check(List.of(hung), T0,
                running), true, NOW);
        assertThat(rows).containsExactly(
                new Dashboard.ColocatedRow("n1", 4242L, true, false, "127.0.0.1:6780", p.log("n1"), "not answering",
                        null, T0, 3L, running),
                new Dashboard.ColocatedRow("n2", self, true, false, "127.0.0.1:6780", p.log("n2"), "checking",
                        null, T0, 3L, running));
        // before the first check ends: no age, and every node with a pid file is checking
        assertThat(Dashboard.colocated(p, new ColocatedChecks.Check(List.of(), null, running), true, NOW))
                .extracting(Dashboard.ColocatedRow::node, Dashboard.ColocatedRow::health,
                        Dashboard.ColocatedRow::ageSeconds)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("n1", "checking", null),
                        org.assertj.core.groups.Tuple.tuple("n2", "checking", null));
    }

    @Test
    void aNodeWhereTheDatabaseDidNotStartSaysWhyFromItsErrorFile() throws Exception {
        ColocatedPlan p = plan();
        Files.writeString(p.log("n1"), "77:M 06 Dec 2026 10:00:00.000 # Failed listening on port 6780 (TCP), "
                + "aborting.\n");
        Files.writeString(p.errorFile("n1"), "colocated database of model 'sim' on node n1 did not start on port "
                + "6780: the server exited before answering\nlast lines of " + p.log("n1") + ":\n  ...\n");
        assertThat(Dashboard.colocated(p, found(), false, NOW)).containsExactly(new Dashboard.ColocatedRow("n1", 77L,
                false, false, "127.0.0.1:6780", p.log("n1"), "did not start", "colocated database of model 'sim' "
                + "on node n1 did not start on port 6780: the server exited before answering", T0, 3L, null));
    }
}
