package io.smartsim.launch.slurm;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.util.ListeningPorts;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code --port auto} with Slurm: the step that reads the nodes' ports, and the refusal as a batch job. */
class SlurmPortsTest {

    @Test
    void oneOverlappingStepOfOneTaskPerPlannedNode() {
        List<String> expected = new ArrayList<>(List.of("srun", "--jobid=34", "--nodes=3", "--ntasks=3",
                "--ntasks-per-node=1", "--overlap", "--nodelist=n1,n2,n3", "--job-name=db-ports"));
        expected.addAll(ListeningPorts.command("")); // each task names its node by SLURMD_NODENAME
        assertThat(SlurmCommands.srunListeningPorts("34", List.of("n1", "n2", "n3"), "db-ports"))
                .containsExactlyElementsOf(expected);
    }

    @Test
    void autoPortAsABatchJobIsRefusedOnPortWithTheFix() {
        OrchestratorSpec spec = OrchestratorSpec.builder().launcher("slurm").nodes(3).autoPort(true)
                .launcherOption("batch", "true").build();
        SlurmLauncher launcher = new SlurmLauncher(new LocalCommandRunner(), Map.of());
        assertThatThrownBy(() -> launcher.choosePorts(spec)).isInstanceOf(InvalidSpecException.class)
                .satisfies(e -> assertThat(((InvalidSpecException) e).field()).isEqualTo("port"))
                .hasMessage("port: --port auto is not available with batch=true: the batch job's nodes are only known "
                        + "once it runs, after its ports are planned; give a fixed base port, for example --port 6780, "
                        + "or run inside an allocation (--alloc) where the nodes' free ports can be read first");
    }

    @Test
    void aFixedPortIsLeftAsItIs() {
        OrchestratorSpec spec = OrchestratorSpec.builder().launcher("slurm").nodes(3).port(41100)
                .launcherOption("batch", "true").build();
        assertThat(new SlurmLauncher(new LocalCommandRunner(), Map.of()).choosePorts(spec)).isSameAs(spec);
    }
}
