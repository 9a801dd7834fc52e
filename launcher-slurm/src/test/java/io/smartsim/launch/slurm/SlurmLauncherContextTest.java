package io.smartsim.launch.slurm;

import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.exec.TransportSource;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.LauncherContext;
import io.smartsim.launch.spi.Launchers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The transport reaches the Slurm launcher through its context: every runner it uses, for a spec's options and for a
 * shard's recorded handle, comes from the context's source, never from the process's shared pool. The source here
 * records what it is asked and hands out this machine's runner (the real squeue runs; no job is found).
 */
@Timeout(60)
class SlurmLauncherContextTest {
    private final List<Map<String, String>> asked = new CopyOnWriteArrayList<>();
    private final CommandRunner local = new LocalCommandRunner();
    private final TransportSource source = options -> {
        asked.add(Map.copyOf(options));
        return local;
    };

    @Test
    void aLauncherFoundInAContextUsesItsTransportForSpecsAndRecordedShards() {
        SlurmLauncher slurm = (SlurmLauncher) Launchers.find("slurm", new LauncherContext(source, Map.of()));
        // remote names a login node; no SSH transport is on this module's class path, so the shared pool would
        // refuse it: only the context's source can answer
        OrchestratorSpec spec = OrchestratorSpec.builder().launcher("slurm").launcherOption("remote", "me@login")
                .build();
        assertThat(slurm.transport(spec)).isSameAs(local);
        assertThat(asked).containsExactly(Map.of("remote", "me@login"));

        asked.clear();
        Map<String, String> handle = Map.of(SlurmLauncher.JOB, "999999991", SlurmLauncher.STEP, "0", "remote",
                "me@login");
        LaunchedShard shard = new LaunchedShard(0, "db_0", "127.0.0.1", 6780, Optional.empty(), Optional.empty(),
                handle);
        slurm.probe(List.of(shard));
        assertThat(asked).isNotEmpty().allSatisfy(o -> assertThat(o).isEqualTo(handle));
    }

    @Test
    void theEnvironmentComesFromTheContextToo() {
        SlurmLauncher slurm = new SlurmLauncher().in(new LauncherContext(source, Map.of("SLURM_JOB_ID", "4242")));
        assertThat(slurm.allocation(SlurmOptions.parse(Map.of()))).isEqualTo("4242");
        assertThat(new SlurmLauncher().in(new LauncherContext(source, Map.of("SLURM_JOB_ID", "4242")))
                .allocation(SlurmOptions.parse(Map.of("alloc", "7")))).isEqualTo("7");
    }
}
