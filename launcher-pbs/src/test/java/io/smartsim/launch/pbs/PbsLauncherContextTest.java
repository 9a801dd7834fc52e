package io.smartsim.launch.pbs;

import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.spi.LauncherContext;
import io.smartsim.launch.spi.Launchers;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** The transport reaches the PBS launcher through its context, not the process's shared pool. */
class PbsLauncherContextTest {
    @Test
    void aLauncherFoundInAContextUsesItsTransport() {
        List<Map<String, String>> asked = new CopyOnWriteArrayList<>();
        CommandRunner local = new LocalCommandRunner();
        PbsLauncher pbs = (PbsLauncher) Launchers.find("pbs", new LauncherContext(options -> {
            asked.add(Map.copyOf(options));
            return local;
        }, Map.of()));
        // no SSH transport on this module's class path: the shared pool would refuse remote=...
        OrchestratorSpec spec = OrchestratorSpec.builder().launcher("pbs").launcherOption("remote", "me@login").build();
        assertThat(pbs.transport(spec)).isSameAs(local);
        assertThat(asked).containsExactly(Map.of("remote", "me@login"));
    }
}
