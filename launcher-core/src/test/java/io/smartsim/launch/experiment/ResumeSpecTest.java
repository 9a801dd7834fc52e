package io.smartsim.launch.experiment;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.spec.Backend;
import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.error.StateException;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.planned.Credentials;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What {@code db start --resume} (and {@link Experiment#resume(String)}) repeats of a recorded run by default: the
 * spec as the manifest holds it, written and read back, without the allocation it ran in. The bug of issue 14 point
 * 4: a KeyDB run with its own server binary was resumed as redis from PATH and refused.
 */
class ResumeSpecTest {
    @TempDir
    Path tmp;

    /** A KeyDB run in a Slurm allocation, with every setting away from its default (--ai: ResumeOptionsTest). */
    private static OrchestratorSpec keydbRun() {
        return OrchestratorSpec.builder().id("db").launcher("slurm").backend(Backend.KEYDB)
                .serverBinary(Path.of("/opt/keydb/bin/keydb-server")).nodes(3).instancesPerNode(2).replicas(1)
                .port(7000).interfaces(List.of("ib0")).cpusPerShard(4).maxMemory("2gb").evictionPolicy("allkeys-lru")
                .extraConfig(List.of("hz 20")).startupTimeout(Duration.ofSeconds(120)).auth(false).tls(true)
                .restart(RestartPolicy.ON_FAILURE).checkpoint(Checkpoint.every(Duration.ofSeconds(2)))
                .lease(Duration.ofMinutes(10))
                .launcherOptions(Map.of("alloc", "4242", "remote", "me@login1")).build();
    }

    private void record(OrchestratorSpec spec) {
        LaunchPlan plan = Planner.plan("demo", tmp, spec, new Placement(java.util.stream.IntStream
                .rangeClosed(1, spec.nodes()).mapToObj(i -> new Placement.Node("n" + i, List.of("10.0.0." + i)))
                .toList()), spec.auth() ? Optional.of(new Credentials("smartsim", "0123456789abcdef0123456789abcdef"))
                : Optional.empty());
        new ManifestStore(tmp).update("demo", m -> m.with(new OrchestratorRecord(spec.id(), spec.launcher(),
                Status.STOPPED, spec, plan, List.of(), Instant.EPOCH, Optional.empty())));
    }

    @Test
    void aResumeRepeatsTheRecordedSpecBackendAndServerBinaryIncludedButNotItsAllocation() {
        record(keydbRun());
        OrchestratorSpec again = Experiment.create("demo", tmp).specToResume("db");

        assertThat(again.backend()).isEqualTo(Backend.KEYDB);
        assertThat(again.serverBinary()).contains(Path.of("/opt/keydb/bin/keydb-server"));
        assertThat(again.launcherOptions()).as("the allocation is that run's; the login node is kept")
                .isEqualTo(Map.of("remote", "me@login1"));
        assertThat(again).isEqualTo(keydbRun().toBuilder().launcherOptions(Map.of("remote", "me@login1")).build());
    }

    @Test
    void nothingRecordedOrNoCheckpointIsNothingToResume() {
        Experiment exp = Experiment.create("demo", tmp);
        assertThatThrownBy(() -> exp.specToResume("db")).isInstanceOf(StateException.class)
                .hasMessage("nothing to resume: no orchestrator 'db' is recorded in " + tmp + " (a first run?); start "
                        + "it without --resume, or give the --exp-dir and --name it ran with");
        record(OrchestratorSpec.builder().id("db").instancesPerNode(3).build());
        assertThatThrownBy(() -> exp.specToResume("db")).isInstanceOf(StateException.class)
                .hasMessage("nothing to resume: orchestrator 'db' in " + tmp + " ran without --checkpoint, so it kept "
                        + "no data; start it without --resume");
    }

    @Test
    void theHintAfterStopIsACommandThatRunsAsPrinted() {
        Experiment exp = Experiment.create("demo", tmp.resolve("my exp"));
        OrchestratorSpec spec = keydbRun();
        assertThat(Resume.hint(exp.dir(), spec.toBuilder().launcherOptions(Map.of()).build()))
                .isEqualTo("smartsim-launch db start --resume --exp-dir '" + tmp.resolve("my exp") + "' --name db");
        assertThat(Resume.hint(exp.dir(), spec)).as("an allocation is the user's to give again, named")
                .isEqualTo("smartsim-launch db start --resume --exp-dir '" + tmp.resolve("my exp")
                        + "' --name db --alloc 4242");
    }
}
