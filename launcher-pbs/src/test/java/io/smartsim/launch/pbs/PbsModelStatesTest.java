package io.smartsim.launch.pbs;

import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.spi.ModelState;
import io.smartsim.launch.pbs.PbsParsers.Job;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** A batch model's status from the recorded qstat fixtures (real OpenPBS 23.06 and Slurm's Torque wrapper). */
class PbsModelStatesTest {
    private static Job text(String fixture, String id) {
        return PbsParsers.find(PbsParsers.qstatText(Golden.fixture(fixture)), id).orElseThrow();
    }

    private static Job json(String fixture, String id) {
        return PbsParsers.find(PbsParsers.qstatJson(Golden.fixture(fixture)), id).orElseThrow();
    }

    private static ModelState state(EntityStatus s, Integer code, String detail) {
        return new ModelState(s, Optional.ofNullable(code), Optional.ofNullable(detail));
    }

    @Test
    void queuedIsQueuedWithPbssOwnWords() {
        assertThat(PbsModelStates.fromJob(text("torque-wrapper-qstat-f-queued.txt", "64"), Optional.empty(), false))
                .isEqualTo(state(EntityStatus.QUEUED, null, "queued"));
        Job q = PbsParsers.qstatJson(Golden.fixture("openpbs-23.06-queued-and-held-partial.json")).stream()
                .filter(j -> j.state().equals("Q")).findFirst().orElseThrow();
        assertThat(PbsModelStates.fromJob(q, Optional.empty(), false)).isEqualTo(state(EntityStatus.QUEUED, null,
                "queued (Not Running: No available resources on nodes)"));
        Job h = PbsParsers.qstatJson(Golden.fixture("openpbs-23.06-queued-and-held-partial.json")).stream()
                .filter(j -> j.state().equals("H")).findFirst().orElseThrow();
        assertThat(PbsModelStates.fromJob(h, Optional.empty(), false).status()).isEqualTo(EntityStatus.QUEUED);
    }

    @Test
    void runningIsRunning() {
        assertThat(PbsModelStates.fromJob(text("torque-wrapper-qstat-f-running.txt", "63"), Optional.empty(), false))
                .isEqualTo(ModelState.of(EntityStatus.RUNNING));
        assertThat(PbsModelStates.fromJob(json("openpbs-23.06-running-3nodes.json", "13.vm"), Optional.empty(), false))
                .isEqualTo(ModelState.of(EntityStatus.RUNNING));
    }

    /**
     * Where a batch model runs: its job's {@code exec_host} hosts, comma-separated, once it runs (also of a finished
     * job PBS still lists), none while queued. Before, a PBS batch model's handle had no node: the dashboard showed "-".
     */
    @Test
    void aJobsNodesAreItsExecHostsOnceItRunsAndNoneWhileQueued() {
        assertThat(PbsModelStates.node(json("openpbs-23.06-running-3nodes.json", "13.vm"))).hasValue("n1,n2,n3");
        assertThat(PbsModelStates.node(text("torque-wrapper-qstat-f-running.txt", "63"))).hasValue("n1,n2,n3");
        assertThat(PbsModelStates.node(text("torque-wrapper-qstat-f-completed-exit3.txt", "65"))).hasValue("n1");
        assertThat(PbsModelStates.node(json("openpbs-23.06-finished-history.json", "1.vm"))).hasValue("vm");
        assertThat(PbsModelStates.node(text("torque-wrapper-qstat-f-queued.txt", "64"))).isEmpty();
        assertThat(PbsModelStates.node(new Job("7", "sim", "R", Optional.empty(), "", "n1/0*2+n2/0*2")))
                .hasValue("n1,n2");
        assertThat(PbsModelStates.node(new Job("7", "sim", "R", Optional.empty(), "", "bad host/0"))).isEmpty();
    }

    @Test
    void exitingIsStillRunningUntilItsStatusIsFinal() {
        Job e = PbsParsers.qstatJson(Golden.fixture("openpbs-constructed-exiting-subjob-failed.json")).stream()
                .filter(j -> j.state().equals("E")).findFirst().orElseThrow();
        assertThat(PbsModelStates.fromJob(e, Optional.empty(), false)).isEqualTo(ModelState.of(EntityStatus.RUNNING));
    }

    @Test
    void pbsProFinishedWithExitStatusZeroIsCompleted() {
        assertThat(PbsModelStates.fromJob(json("openpbs-23.06-finished-history.json", "1.vm"), Optional.empty(), false))
                .isEqualTo(state(EntityStatus.COMPLETED, 0, null));
    }

    @Test
    void pbsProFinishedWithExitStatusThreeIsFailedWithThree() {
        Job f = PbsParsers.qstatJson(Golden.fixture("openpbs-constructed-exiting-subjob-failed.json")).stream()
                .filter(j -> j.state().equals("F")).findFirst().orElseThrow();
        assertThat(PbsModelStates.fromJob(f, Optional.empty(), false)).isEqualTo(state(EntityStatus.FAILED, 3, null));
    }

    @Test
    void pbsProAfterSomeoneElsesQdelIsFailedKilledBySigterm() {
        Job f = PbsParsers.qstatJson(Golden.fixture("openpbs-23.06-qdel-1node-partial.json")).get(0);
        assertThat(PbsModelStates.fromJob(f, Optional.empty(), false)).isEqualTo(state(EntityStatus.FAILED, 143,
                "exit status 271: killed by signal 15 (SIGTERM, e.g. qdel)"));
        assertThat(PbsModelStates.fromJob(f, Optional.empty(), true)).isEqualTo(state(EntityStatus.CANCELLED, 143,
                "stopped on request (qdel)"));
    }

    @Test
    void theTorqueWrapperHasNoExitStatusSoTheExitFileDecides() {
        Job c = text("torque-wrapper-qstat-f-completed-exit3.txt", "65");
        assertThat(c.exitStatus()).isEmpty();
        assertThat(PbsModelStates.fromJob(c, Optional.of(3), false)).isEqualTo(state(EntityStatus.FAILED, 3, null));
        assertThat(PbsModelStates.fromJob(c, Optional.of(0), false)).isEqualTo(state(EntityStatus.COMPLETED, 0, null));
        assertThat(PbsModelStates.fromJob(c, Optional.empty(), false).status()).isEqualTo(EntityStatus.FAILED);
        assertThat(PbsModelStates.fromJob(c, Optional.empty(), false).detail().orElseThrow())
                .startsWith("job 65 completed, and it reports no exit status and its script wrote none");
    }

    @Test
    void pbsExitStatusWinsOverTheExitFile() {
        assertThat(PbsModelStates.fromJob(json("openpbs-23.06-finished-history.json", "1.vm"), Optional.of(99), false))
                .isEqualTo(state(EntityStatus.COMPLETED, 0, null));
    }

    @Test
    void aJobPbsNoLongerListsIsNeverTakenForSuccess() {
        assertThat(PbsModelStates.gone("7", Optional.of(0), false)).isEqualTo(state(EntityStatus.COMPLETED, 0, null));
        assertThat(PbsModelStates.gone("7", Optional.empty(), false).status()).isEqualTo(EntityStatus.FAILED);
        assertThat(PbsModelStates.gone("7", Optional.empty(), true).status()).isEqualTo(EntityStatus.CANCELLED);
    }

    @Test
    void walltimeExceeded() {
        assertThat(PbsModelStates.ended("job 9.vm finished", Optional.of(-29), false)).isEqualTo(state(
                EntityStatus.FAILED, -29, "exit status -29: walltime exceeded"));
    }

    @Test
    void theExitFileHoldsOneInteger() {
        assertThat(PbsModelStates.exitFile("3\n")).contains(3);
        assertThat(PbsModelStates.exitFile("")).isEmpty();
        assertThat(PbsModelStates.exitFile("3 4")).isEmpty();
    }
}
