package io.smartsim.launch.cli;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.spi.Launchers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * --tls is planned by every launcher it has been proven with (the ITs SlurmTlsIT, SshTlsIT, RemoteSlurmTlsIT,
 * PbsTlsIT, TlsIT), and refused, while planning, where it has not: PBS behind a login node.
 */
class TlsLaunchersTest {
    @ParameterizedTest
    @ValueSource(strings = {"slurm", "pbs"})
    void batchJobsOfTheSchedulersPlanWithTls(String launcher) {
        OrchestratorSpec spec = OrchestratorSpec.builder().launcher(launcher).nodes(3).tls(true)
                .launcherOption("batch", "true").build();
        Placement p = Launchers.find(launcher).place(spec);
        assertThat(p.nodes()).hasSize(3);
    }

    @Test
    void theSshLauncherPlansWithTls() {
        OrchestratorSpec spec = OrchestratorSpec.builder().launcher("ssh").nodes(3).tls(true)
                .launcherOption("hosts", "127.0.1.1,127.0.1.2,127.0.1.3").build();
        assertThat(Launchers.find("ssh").place(spec).nodes()).extracting(Placement.Node::host)
                .containsExactly("127.0.1.1", "127.0.1.2", "127.0.1.3");
    }

    @Test
    void pbsBehindALoginNodeRefusesTlsNamingWhatWorks() {
        OrchestratorSpec spec = OrchestratorSpec.builder().launcher("pbs").nodes(3).tls(true)
                .launcherOption("batch", "true").launcherOption("remote", "alice@login1").build();
        assertThatThrownBy(() -> Launchers.find("pbs").place(spec)).isInstanceOf(InvalidSpecException.class)
                .hasMessage("tls: --tls is not supported with the pbs launcher behind a login node (--remote) yet; "
                        + "it works with the local, ssh and slurm launchers (slurm also behind a login node with "
                        + "--remote) and with pbs run from a machine that shares the nodes' file system. Start without "
                        + "--tls (the password still keeps others out: auth is on by default)");
    }
}
