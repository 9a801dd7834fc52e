package io.smartsim.launch.slurm;

import io.smartsim.launch.entity.EntityStatus;
import io.smartsim.launch.entity.ModelState;
import io.smartsim.launch.slurm.SlurmParsers.Accounting;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Model statuses from squeue and sacct output captured on the testbed (fixtures/README.txt). */
class SlurmModelStatesTest {

    private static Map<String, ModelState> accounting() {
        Map<String, ModelState> out = new LinkedHashMap<>();
        for (Accounting a : SlurmParsers.accounting(Golden.fixture("sacct-completed.txt"))) {
            out.put(a.id(), SlurmModelStates.fromAccounting(a));
        }
        return out;
    }

    @Test
    void sacctGivesEachJobAndStepItsStatusAndExitCode() {
        Map<String, ModelState> s = accounting();
        assertThat(s.get("25")).isEqualTo(new ModelState(EntityStatus.COMPLETED, Optional.of(0), Optional.empty()));
        assertThat(s.get("28")).isEqualTo(new ModelState(EntityStatus.FAILED, Optional.of(3), Optional.empty()));
        assertThat(s.get("29.0")).isEqualTo(new ModelState(EntityStatus.FAILED, Optional.of(1), Optional.empty()));
        assertThat(s.get("30")).isEqualTo(new ModelState(EntityStatus.CANCELLED, Optional.of(0),
                Optional.of("cancelled (CANCELLED by 0)")));
        assertThat(s.get("30.0")).isEqualTo(new ModelState(EntityStatus.CANCELLED, Optional.of(143),
                Optional.of("cancelled (CANCELLED)")));
    }

    @Test
    void failuresOtherThanAnExitCodeSayWhy() {
        assertThat(SlurmModelStates.fromAccounting(new Accounting("9", "sim", "TIMEOUT", "0:15", "n1")))
                .isEqualTo(new ModelState(EntityStatus.FAILED, Optional.of(143),
                        Optional.of("walltime exceeded (TIMEOUT)")));
        assertThat(SlurmModelStates.fromAccounting(new Accounting("9", "sim", "FAILED", "0:9", "n1")))
                .isEqualTo(new ModelState(EntityStatus.FAILED, Optional.of(137), Optional.of("killed by signal 9")));
        assertThat(SlurmModelStates.fromAccounting(new Accounting("9", "sim", "NODE_FAIL", "0:0", "n1")).detail())
                .contains("Slurm state NODE_FAIL");
        assertThat(SlurmModelStates.fromAccounting(new Accounting("9", "sim", "PENDING", "0:0", "")).status())
                .isEqualTo(EntityStatus.QUEUED);
    }

    @Test
    void aPendingJobIsQueuedWithItsReasonAndARunningOneRunning() {
        for (SlurmParsers.Job j : SlurmParsers.jobs(Golden.fixture("squeue-pending.txt"))) {
            ModelState s = SlurmModelStates.fromQueue(j).orElseThrow();
            assertThat(s.status()).isEqualTo(EntityStatus.QUEUED);
            assertThat(s.detail()).contains("pending: " + j.reason());
        }
        for (SlurmParsers.Job j : SlurmParsers.jobs(Golden.fixture("squeue-running.txt"))) {
            assertThat(SlurmModelStates.fromQueue(j)).contains(ModelState.of(EntityStatus.RUNNING));
        }
        assertThat(SlurmModelStates.fromQueue(new SlurmParsers.Job("5", "sim", "COMPLETED", "None", "n1"))).isEmpty();
    }

    @Test
    void exitCodesReadAsAShellWould() {
        assertThat(SlurmModelStates.exitCode("0:0")).contains(0);
        assertThat(SlurmModelStates.exitCode("3:0")).contains(3);
        assertThat(SlurmModelStates.exitCode("0:9")).contains(137);
        assertThat(SlurmModelStates.exitCode("")).isEmpty();
    }
}
