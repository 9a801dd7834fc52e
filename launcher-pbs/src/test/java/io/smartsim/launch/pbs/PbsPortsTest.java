package io.smartsim.launch.pbs;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.util.ListeningPorts;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code --port auto} with PBS: the command each run command carries to a node, and the refusal as a batch job. */
class PbsPortsTest {
    private static final List<String> READ = ListeningPorts.command("n2");

    @Test
    void eachRunCommandCarriesTheCommandToItsNode() {
        List<String> pbsdsh = new ArrayList<>(List.of("pbsdsh", "-n", "4", "--"));
        pbsdsh.addAll(READ);
        assertThat(PbsCommands.runOnNode(RunCommand.PBSDSH, "n2", "4", READ, Optional.empty()))
                .containsExactlyElementsOf(pbsdsh);
        List<String> mpiexec = new ArrayList<>(List.of("mpiexec", "-n", "1", "-host", "n2"));
        mpiexec.addAll(READ);
        assertThat(PbsCommands.runOnNode(RunCommand.MPIEXEC, "n2", "", READ, Optional.empty()))
                .containsExactlyElementsOf(mpiexec);
        List<String> ssh = PbsCommands.runOnNode(RunCommand.SSH, "n2", "", READ, Optional.of(Path.of("/tb/ssh_config")));
        assertThat(ssh.subList(0, ssh.size() - 1)).containsExactly("ssh", "-F", "/tb/ssh_config", "-o", "BatchMode=yes",
                "n2");
    }

    @Test
    void overSshTheRemoteShellGetsTheScriptIntactAndItFindsASocketListeningHere() throws Exception {
        // What the node's login shell does with ssh's one string: sh -c STRING. A real shell, a real socket.
        String remote = PbsCommands.runOnNode(RunCommand.SSH, "n2", "", READ, Optional.empty()).get(4);
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Process p = new ProcessBuilder("sh", "-c", remote).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).as(out).isZero();
            assertThat(ListeningPorts.parse(out).get("n2"))
                    .contains(new ListeningPorts.Listener("127.0.0.1", s.getLocalPort()));
        }
    }

    @Test
    void autoPortAsABatchJobIsRefusedOnPortWithTheFix() {
        OrchestratorSpec spec = OrchestratorSpec.builder().launcher("pbs").nodes(3).autoPort(true)
                .launcherOption("batch", "true").build();
        PbsLauncher launcher = new PbsLauncher(new LocalCommandRunner(), Map.of());
        assertThatThrownBy(() -> launcher.choosePorts(spec)).isInstanceOf(InvalidSpecException.class)
                .satisfies(e -> assertThat(((InvalidSpecException) e).field()).isEqualTo("port"))
                .hasMessage("port: --port auto is not available with batch=true: the batch job's nodes are only known "
                        + "once it runs, after its ports are planned; give a fixed base port, for example --port 6780, "
                        + "or start inside an existing job (--alloc) where the nodes' free ports can be read first");
    }
}
