package io.smartsim.launch.pbs;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.exec.LocalCommandRunner;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the pbs launcher refuses to supervise, by name at plan time, before it asks PBS anything. */
class PbsSupervisionTest {
    private static final Map<String, String> IN_JOB = Map.of("PBS_JOBID", "12.server", "PBS_NODEFILE", "/nope");

    private static OrchestratorSpec.Builder restart() {
        return OrchestratorSpec.builder().launcher("pbs").nodes(3).restart(RestartPolicy.ON_FAILURE);
    }

    @Test
    void itCarriesBoth() {
        assertThat(new PbsLauncher()).isInstanceOf(io.smartsim.launch.spi.Leasable.class)
                .isInstanceOf(io.smartsim.launch.spi.Restartable.class);
    }

    @Test
    void restartWithABatchJobIsRefusedWithTheReason() {
        assertThatThrownBy(() -> new PbsLauncher(new LocalCommandRunner(), Map.of()).place(restart()
                .launcherOption("batch", "true").launcherOption("runCommand", "ssh").build()))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("restart")
                .hasMessageContaining("not --batch: a batch job ends once its script's own run commands have");
    }

    @Test
    void restartWithPbsdshOrMpiexecOrAutoInsideTheJobIsRefusedByName() {
        for (String run : new String[] {"pbsdsh", "mpiexec"}) {
            assertThatThrownBy(() -> new PbsLauncher(new LocalCommandRunner(), IN_JOB).place(restart()
                    .launcherOption("runCommand", run).build())).isInstanceOf(InvalidSpecException.class)
                    .hasMessageContaining("runCommand=" + run + " is not supported for restarts yet")
                    .hasMessageContaining("set runCommand=ssh");
        }
        assertThatThrownBy(() -> new PbsLauncher(new LocalCommandRunner(), IN_JOB).place(restart().build()))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("inside the job runCommand=auto may pick pbsdsh or mpiexec");
    }

    @Test
    void aLeaseBehindALoginNodeIsRefused() {
        assertThatThrownBy(() -> new PbsLauncher(new LocalCommandRunner(), Map.of()).place(OrchestratorSpec.builder()
                .launcher("pbs").lease(Duration.ofMinutes(5)).launcherOption("remote", "user@login").build()))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("--lease is not supported with --remote");
    }
}
