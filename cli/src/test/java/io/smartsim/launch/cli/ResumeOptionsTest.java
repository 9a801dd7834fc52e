package io.smartsim.launch.cli;

import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.spec.Backend;
import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code db start --resume}: the recorded spec, with only the options given on the command line over it. */
class ResumeOptionsTest {
    /** As {@code Experiment.specToResume} returns it: a KeyDB batch job behind a login node. */
    private static final OrchestratorSpec RECORDED = OrchestratorSpec.builder().id("db").launcher("slurm")
            .backend(Backend.KEYDB).serverBinary(Path.of("/opt/keydb/bin/keydb-server")).instancesPerNode(3)
            .replicas(1).port(7000).auth(false).tls(true).checkpoint(Checkpoint.every(Duration.ofSeconds(2)))
            .ai(new AiSpec(List.of("onnx"), "cpu", 0))
            .launcherOptions(Map.of("batch", "true", "time", "01:00:00", "remote", "me@login1")).build();

    private static OrchestratorSpec resume(String... options) {
        CommandLine cl = Main.commandLine(CommandLine.defaultFactory());
        String[] args = new String[options.length + 4];
        System.arraycopy(new String[] {"db", "start", "--resume", "--name=db"}, 0, args, 0, 4);
        System.arraycopy(options, 0, args, 4, options.length);
        CommandLine.ParseResult parsed = cl.parseArgs(args);
        DbStartCommand start = (DbStartCommand) parsed.subcommand().subcommand().commandSpec().userObject();
        return start.resumeSpec(RECORDED);
    }

    @Test
    void nothingGivenIsTheRecordBackendBinaryAndAllIncluded() {
        assertThat(resume()).isEqualTo(RECORDED);
        assertThat(resume("--exp-dir", "/tmp/x", "--json")).isEqualTo(RECORDED);
    }

    @Test
    void eachOptionGivenOverridesItsFieldOnly() {
        assertThat(resume("--port", "7100", "--checkpoint", "every=5s")).isEqualTo(RECORDED.toBuilder().port(7100)
                .checkpoint(Checkpoint.every(Duration.ofSeconds(5))).build());
        assertThat(resume("--port", "auto").autoPort()).isTrue();
        assertThat(resume("--backend", "redis", "--server-binary", "/usr/bin/redis-server")).isEqualTo(RECORDED
                .toBuilder().backend(Backend.REDIS).serverBinary(Path.of("/usr/bin/redis-server")).build());
        assertThat(resume("--replicas", "0", "--per-node", "3")).isEqualTo(RECORDED.toBuilder().replicas(0).build());
        assertThat(resume("--ai-threads", "4").ai()).contains(new AiSpec(List.of("onnx"), "cpu", 4));
        assertThat(resume("--auth", "--no-tls")).as("the record's --no-auth and --tls turned back")
                .isEqualTo(RECORDED.toBuilder().auth(true).tls(false).build());
        assertThat(resume("--no-auth", "--tls")).isEqualTo(RECORDED);
    }

    @Test
    void launcherOptionsMergeAnAllocationReplacesABatchJobAnEmptyValueRemovesOne() {
        assertThat(resume("--time", "02:00:00").launcherOptions())
                .isEqualTo(Map.of("batch", "true", "time", "02:00:00", "remote", "me@login1"));
        assertThat(resume("--alloc", "77").launcherOptions()).isEqualTo(Map.of("alloc", "77", "remote", "me@login1"));
        assertThat(resume("--remote", "").launcherOptions()).isEqualTo(Map.of("batch", "true", "time", "01:00:00"));
        assertThat(resume("--launcher", "local")).isEqualTo(RECORDED.toBuilder().launcher("local")
                .launcherOptions(Map.of()).build());
    }

    @Test
    void aFreshStartStillTakesTheDefaults() {
        CommandLine cl = Main.commandLine(CommandLine.defaultFactory());
        CommandLine.ParseResult parsed = cl.parseArgs("db", "start", "--ai-device", "gpu");
        DbStartCommand start = (DbStartCommand) parsed.subcommand().subcommand().commandSpec().userObject();
        assertThatThrownBy(() -> start.specOptions.toSpec("db", Map.of())).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("--ai-device and --ai-threads need --ai BACKEND");
        CommandLine.ParseResult plain = Main.commandLine(CommandLine.defaultFactory()).parseArgs("db", "start");
        DbStartCommand fresh = (DbStartCommand) plain.subcommand().subcommand().commandSpec().userObject();
        assertThat(fresh.specOptions.toSpec("x", Map.of())).isEqualTo(OrchestratorSpec.builder().id("x").build());
    }
}
