package io.smartsim.launch.pbs;

import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.spi.LaunchedModel;
import io.smartsim.launch.spi.ModelState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Where the PBS model launcher's poll says a batch model runs ({@link ModelState#node}, which core records in the
 * model's handle). qstat is played by {@link OpenPbsTest.OpenPbs} with real output (fixtures/README.txt: OpenPBS
 * 23.06, which cannot run here, and the testbed's Torque-style wrapper); PbsModelsIT checks the same on the testbed.
 * Before, poll said nothing about nodes and a batch model's node stayed unknown ("-" on the dashboard).
 */
@Timeout(30)
class PbsModelNodesTest {

    private static LaunchedModel batch(String name, String job, Dialect d) {
        return new LaunchedModel(name, PbsLauncher.NAME, job, Optional.empty(), Instant.now(), Map.of(
                PbsModelLauncher.JOB, job, PbsModelLauncher.MODE, PbsModelLauncher.MODE_BATCH,
                PbsModelLauncher.DIALECT, d.option()));
    }

    /** Answers {@code qstat} with the fixture of the job id it names (the last argument), else with nothing. */
    private static OpenPbsTest.OpenPbs qstat(Map<String, String> fixtureByJob) {
        return new OpenPbsTest.OpenPbs(argv -> {
            String fixture = argv.get(0).equals("qstat") ? fixtureByJob.get(argv.get(argv.size() - 1)) : null;
            return new CommandResult(argv, fixture == null ? 1 : 0, fixture == null ? "" : Golden.fixture(fixture),
                    fixture == null ? argv.get(0) + ": not played here" : "");
        });
    }

    @Test
    void aRunningBatchJobNamesItsExecHostsCommaSeparated() {
        OpenPbsTest.OpenPbs pbs = qstat(Map.of("13.vm", "openpbs-23.06-running-3nodes.json",
                "63", "torque-wrapper-qstat-f-running.txt", "64", "torque-wrapper-qstat-f-queued.txt"));
        PbsModelLauncher pro = new PbsModelLauncher(pbs, Map.of(), Optional.of(Dialect.PRO), Optional.empty(),
                Optional.empty());
        ModelState s = pro.poll(List.of(batch("long3", "13.vm", Dialect.PRO))).get("long3");
        assertThat(s.status()).isEqualTo(EntityStatus.RUNNING);
        assertThat(s.node()).hasValue("n1,n2,n3");

        PbsModelLauncher torque = new PbsModelLauncher(pbs, Map.of(), Optional.of(Dialect.TORQUE), Optional.empty(),
                Optional.empty());
        ModelState t = torque.poll(List.of(batch("sim", "63", Dialect.TORQUE))).get("sim");
        assertThat(t.status()).isEqualTo(EntityStatus.RUNNING);
        assertThat(t.node()).hasValue("n1,n2,n3");
        ModelState q = torque.poll(List.of(batch("waits", "64", Dialect.TORQUE))).get("waits");
        assertThat(q.status()).isEqualTo(EntityStatus.QUEUED);
        assertThat(q.node()).as("queued: no node yet").isEmpty();
    }

    @Test
    void aFinishedJobPbsStillListsNamesWhereItRan() {
        OpenPbsTest.OpenPbs pbs = qstat(Map.of("1.vm", "openpbs-23.06-finished-history.json"));
        PbsModelLauncher pro = new PbsModelLauncher(pbs, Map.of(), Optional.of(Dialect.PRO), Optional.empty(),
                Optional.empty());
        ModelState s = pro.poll(List.of(batch("hello1", "1.vm", Dialect.PRO))).get("hello1");
        assertThat(s.status().terminal()).as("%s", s).isTrue();
        assertThat(s.node()).hasValue("vm");
    }
}
