package io.smartsim.launch.pbs;

import io.smartsim.launch.plan.AiInstall;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.spec.OrchestratorSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * --ai under PBS (issue 16): plan and scripts only (no PBS server runs here). Each shard's wrapper execs its
 * redis-server, which loads the smartsim-ai module; each node runs one model server started by the run command, which
 * a batch job's script starts (and waits for) before the shards.
 */
class PbsAiScriptsTest {
    static final AiInstall INSTALL = new AiInstall("/usr/lib/jvm/java-17/bin/java", "/opt/smartsim/ai/*",
            "/opt/smartsim/ai", List.of("ONNX"), Optional.of(Path.of("/opt/smartsim/ai/smartsim-ai.so")));

    private static LaunchPlan plan(OrchestratorSpec spec, List<String> hosts) {
        return Planner.plan("exp", Path.of("/exp"), spec, new Placement(hosts.stream()
                .map(h -> new Placement.Node(h, List.of())).toList()),
                spec.auth() ? Optional.of(new io.smartsim.launch.planned.Credentials("smartsim",
                        "0123456789abcdef0123456789abcdef")) : Optional.empty(), Optional.of(INSTALL));
    }

    @Test
    void theWrapperExecsItsServerWhichLoadsTheModuleWithItsNodesModelServerSocket() {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").launcher("pbs").nodes(3)
                .ai(AiSpec.of(List.of("onnx"))).build();
        LaunchPlan p = plan(spec, List.of("n1", "n2", "n3"));
        String w = PbsScripts.wrapper(p, p.shards().get(0), Optional.empty(), "redis-server");
        assertThat(w).contains("exec redis-server /exp/db/db_0/redis.conf --bind \"$addr\"")
                .doesNotContain("AiServerMain", "26780");
        assertThat(p.shards().get(0).config()).contains("loadmodule \"/opt/smartsim/ai/smartsim-ai.so\" SOCKET "
                + "\"/exp/db/ai/model-server-0.sock\" BACKENDS ONNX");
        Golden.assertMatches("wrapper-ai-cluster.sh", w);
    }

    @Test
    void theModelServerEndsWithItsNodesShardsOrItsSshSession() {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").launcher("pbs").nodes(3).instancesPerNode(2)
                .auth(false).ai(AiSpec.of(List.of("onnx"))).build();
        LaunchPlan p = plan(spec, List.of("n1", "n2", "n3"));
        String w = PbsScripts.modelServer(p, p.modelServers().get(1));
        // the shards of its node (2 and 3) are the ones it watches
        assertThat(w).contains("reports=(/exp/db/db_2/db_2.where /exp/db/db_3/db_3.where)",
                AiPlanner.MODEL_SERVER_MAIN, "--socket /exp/db/ai/model-server-1.sock");
        Golden.assertMatches("model-server-ai.sh", w);
    }

    @Test
    void aBatchJobStartsTheModelServersAndWaitsUntilEachIsReadyBeforeTheShards() {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").launcher("pbs").nodes(3).auth(false)
                .ai(AiSpec.of(List.of("onnx"))).launcherOption("batch", "true").build();
        LaunchPlan p = plan(spec, List.of("batch-node-0", "batch-node-1", "batch-node-2"));
        PbsOptions o = PbsOptions.parse(spec.launcherOptions());
        String script = PbsScripts.batch(p, o, Dialect.TORQUE, RunCommand.SSH);
        int await = script.indexOf("await_model_server 2 ");
        assertThat(script.indexOf("ai/model-server-2.sh")).isPositive().isLessThan(await);
        assertThat(script.indexOf("db_0/db_0.pbs.sh")).isGreaterThan(await);
        Golden.assertMatches("batch-ai-torque-3x1-ssh.pbs", script);
    }

    /**
     * --restart on-failure with --ai: in an existing job with the ssh run command, a shard and its node's model server
     * are both started again over ssh (reviveModelServers), so it is planned; a batch job, another run command and a
     * login node are refused by name before anything runs. (Before the revive, every --ai case was refused.)
     */
    @Test
    void restartOnFailureWithAiRunsInAJobOverSshAndIsRefusedByNameElsewhere() {
        PbsLauncher pbs = new PbsLauncher(new io.smartsim.launch.exec.LocalCommandRunner(), java.util.Map.of());
        OrchestratorSpec.Builder inJob = OrchestratorSpec.builder().id("db").launcher("pbs").nodes(3).auth(false)
                .ai(AiSpec.of(List.of("onnx"))).restart(io.smartsim.launch.spec.RestartPolicy.ON_FAILURE)
                .launcherOption("alloc", "7.server");
        assertThatCode(() -> pbs.refuseUnsupervisable(inJob.launcherOption("runCommand", "ssh").build()))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> pbs.refuseUnsupervisable(inJob.launcherOption("runCommand", "mpiexec").build()))
                .isInstanceOf(io.smartsim.launch.error.InvalidSpecException.class)
                .hasMessageContaining("runCommand=mpiexec is not supported for restarts yet");
        assertThatThrownBy(() -> pbs.refuseUnsupervisable(OrchestratorSpec.builder().id("db").launcher("pbs").nodes(3)
                .auth(false).ai(AiSpec.of(List.of("onnx"))).restart(io.smartsim.launch.spec.RestartPolicy.ON_FAILURE)
                .launcherOption("batch", "true").launcherOption("runCommand", "ssh").build()))
                .isInstanceOf(io.smartsim.launch.error.InvalidSpecException.class)
                .hasMessageContaining("--restart on-failure needs an existing job with the pbs launcher");
        assertThatThrownBy(() -> pbs.refuseUnsupervisable(inJob.launcherOption("runCommand", "ssh")
                .launcherOption("remote", "me@login").build()))
                .isInstanceOf(io.smartsim.launch.error.InvalidSpecException.class)
                .hasMessageContaining("--restart on-failure with --ai is not available with the pbs launcher behind a "
                        + "login node (--remote)");
    }
}
