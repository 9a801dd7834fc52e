package io.smartsim.launch.ssh;

import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.plan.AiInstall;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.TestbedLock;
import io.smartsim.launch.testing.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code --ai} preflight on the ssh launcher: every host runs its model server from the AI directory at the paths it
 * has here, so a host without it is refused by name before anything starts. The hosts are {@link SeparateHosts}: real
 * sshd sessions, each host seeing its own copy of the shared directory, where only hosts 1 and 2 have the AI directory.
 * The AI directory here is laid out by hand (a jar file and a module file, which preflight only looks for); the
 * end-to-end runs with the real model server are it-ai's {@code SshAiModuleIT}.
 */
@TestbedLock(value = TestbedLock.Bed.SSH, shared = true)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SshAiPreflightIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest();
    @TempDir
    Path dir;

    @Test
    void aHostWithoutTheAiDirectoryIsRefusedByNameBeforeAnythingStarts(@TempDir Path hostsDir) throws Exception {
        leftovers.dir(hostsDir);
        Path ai = dir.resolve("ai-install");
        try (SeparateHosts hosts = SeparateHosts.start(dir, hostsDir, leftovers)) {
            // Hosts 1 and 2 have the AI directory at this path; host 3 does not.
            for (int h = 1; h <= 2; h++) {
                Path mine = Files.createDirectories(hostsDir.resolve("host" + h).resolve("ai-install"));
                Files.writeString(mine.resolve("ai-server.jar"), "");
                Files.writeString(mine.resolve(AiInstall.MODULE_FILE), "");
            }
            int port = leftovers.freeBase(1);
            OrchestratorSpec spec = OrchestratorSpec.builder().launcher("ssh").nodes(3).instancesPerNode(1).port(port)
                    .auth(false).ai(AiSpec.of(List.of("onnx")))
                    .launcherOption("hosts", String.join(",", SshTestbed.HOSTS))
                    .launcherOption("ssh-config", hosts.sshConfig().toString()).build();
            SshLauncher launcher = new SshLauncher();
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            AiInstall install = new AiInstall(java, ai + "/*", "test", List.of("ONNX"),
                    Optional.of(ai.resolve(AiInstall.MODULE_FILE)));
            LaunchPlan plan = Planner.plan("ssh-ai", dir, spec, launcher.place(spec), Optional.empty(),
                    Optional.of(install));
            assertThat(plan.modelServers()).hasSize(3);
            ModelServerPlan third = plan.modelServers().get(2);
            assertThat(third.needed()).containsExactly(java, ai.toString(), ai.resolve(AiInstall.MODULE_FILE)
                    .toString());

            assertThatThrownBy(() -> launcher.preflight(plan)).isInstanceOf(InvalidSpecException.class)
                    .hasMessageContaining("host 127.0.1.3 has no " + ai + ", no " + ai.resolve(AiInstall.MODULE_FILE))
                    .hasMessageContaining("same paths on every host")
                    .satisfies(e -> assertThat(((InvalidSpecException) e).field()).isEqualTo("ai"))
                    .hasMessageNotContaining("127.0.1.1 (").hasMessageNotContaining("127.0.1.2 (");
            // Nothing started: no process of the experiment, no port taken, not even the directory written.
            assertThat(Processes.serversOn(List.of(port))).isEmpty();
            assertThat(plan.dir()).doesNotExist();
        }
    }
}
