package io.smartsim.launch.telemetry;

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

    @Test
    void noFilesNoRows() {
        assertThat(Dashboard.colocated(plan(), List.of(), true)).isEmpty();
        assertThat(Dashboard.colocated(ColocatedPlanner.plan("sim", dir.resolve("never-ran"), ColocatedDb.tcp(6780)),
                List.of(), false)).isEmpty();
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

        List<Dashboard.ColocatedRow> ended = Dashboard.colocated(p, List.of(n1), false);
        assertThat(ended).containsExactly(
                new Dashboard.ColocatedRow("n1", 4242L, true, true, "127.0.0.1:6780", p.log("n1"), "healthy", null),
                new Dashboard.ColocatedRow("n2", 4343L, false, false, "127.0.0.1:6780", p.log("n2"), "ended", null),
                new Dashboard.ColocatedRow("n3", null, false, false, "127.0.0.1:6780", p.log("n3"), "ended", null));
        // while the model runs, a node without a server is starting or being stopped: not "ended" yet
        assertThat(Dashboard.colocated(p, List.of(n1), true)).extracting(Dashboard.ColocatedRow::health)
                .containsExactly("healthy", "not running", "not running");

        // in JSON, a running one has exactly the fields db status --json gives it (ColocatedNode), and problem
        var mapper = Json.mapper();
        var status = mapper.readTree(mapper.writeValueAsString(n1));
        var row = mapper.readTree(mapper.writeValueAsString(ended.get(0)));
        assertThat(status.get("health").asText()).isEqualTo("healthy");
        status.fieldNames().forEachRemaining(f -> assertThat(row.get(f)).as(f).isEqualTo(status.get(f)));
        assertThat(row.get("problem").isNull()).isTrue();
        assertThat(row.size()).isEqualTo(status.size() + 1);
    }

    @Test
    void aNodeWhereTheDatabaseDidNotStartSaysWhyFromItsErrorFile() throws Exception {
        ColocatedPlan p = plan();
        Files.writeString(p.log("n1"), "77:M 06 Dec 2026 10:00:00.000 # Failed listening on port 6780 (TCP), "
                + "aborting.\n");
        Files.writeString(p.errorFile("n1"), "colocated database of model 'sim' on node n1 did not start on port "
                + "6780: the server exited before answering\nlast lines of " + p.log("n1") + ":\n  ...\n");
        assertThat(Dashboard.colocated(p, List.of(), false)).containsExactly(new Dashboard.ColocatedRow("n1", 77L,
                false, false, "127.0.0.1:6780", p.log("n1"), "did not start", "colocated database of model 'sim' "
                + "on node n1 did not start on port 6780: the server exited before answering"));
    }
}
