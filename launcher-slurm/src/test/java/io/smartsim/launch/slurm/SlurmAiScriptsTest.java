package io.smartsim.launch.slurm;

import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.plan.AiInstall;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.plan.ModelServerPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * --ai under Slurm (issue 16): each shard's step execs its redis-server, which loads the smartsim-ai module; each node
 * runs one model server as a step of its own, which a batch job's script starts (and waits for) before the shards.
 */
class SlurmAiScriptsTest {
    static final AiInstall INSTALL = new AiInstall("/usr/lib/jvm/java-17/bin/java", "/opt/smartsim/ai/*",
            "/opt/smartsim/ai", List.of("ONNX"), Optional.of(Path.of("/opt/smartsim/ai/smartsim-ai.so")));

    private static LaunchPlan plan(OrchestratorSpec spec, Placement placement) {
        return Planner.plan("exp", Path.of("/exp"), spec, placement, Optional.empty(), Optional.of(INSTALL));
    }

    private static OrchestratorSpec.Builder spec() {
        return OrchestratorSpec.builder().id("db").launcher("slurm").nodes(3).auth(false)
                .ai(AiSpec.of(List.of("onnx")));
    }

    /** What the launcher places in an allocation of n1-n3. */
    private static Placement allocation() {
        return new Placement(List.of(new Placement.Node("n1", List.of()), new Placement.Node("n2", List.of()),
                new Placement.Node("n3", List.of())));
    }

    @Test
    void theShardsStepExecsItsServerWhichLoadsTheModuleWithItsNodesModelServerSocket() {
        LaunchPlan p = plan(spec().build(), allocation());
        String w = SlurmScripts.wrapper(p, p.shards().get(1), List.of(), "/opt/redis/bin/redis-server");
        assertThat(w).contains("exec /opt/redis/bin/redis-server /exp/db/db_1/redis.conf --bind \"${addrs[@]}\""
                + " --cluster-announce-ip \"$addr\"")
                .doesNotContain("AiServerMain", "26780"); // no front, no second port: only the shard and bus ports
        assertThat(p.shards().get(1).config()).contains("loadmodule \"/opt/smartsim/ai/smartsim-ai.so\" SOCKET "
                + "\"/exp/db/ai/model-server-1.sock\" BACKENDS ONNX");
        Golden.assertMatches("wrapper-ai-cluster.sh", w);
    }

    @Test
    void eachNodeRunsOneModelServerAsAStepOfItsOwnThatReportsWhereItRuns() {
        LaunchPlan p = plan(spec().instancesPerNode(2).build(), allocation());
        assertThat(p.modelServers()).extracting(ModelServerPlan::host).containsExactly("n1", "n2", "n3");
        assertThat(p.modelServers().get(1).shards()).containsExactly(2, 3);
        String w = SlurmScripts.modelServer(p, p.modelServers().get(1));
        assertThat(w).contains("exec /usr/lib/jvm/java-17/bin/java ", AiPlanner.MODEL_SERVER_MAIN,
                "--socket /exp/db/ai/model-server-1.sock");
        Golden.assertMatches("model-server-ai.sh", w);
        Map<String, String> all = SlurmScripts.all(p, SlurmOptions.parse(p.spec().launcherOptions()));
        assertThat(all).containsKeys("ai/model-server-0.sh", "ai/model-server-1.sh", "ai/model-server-2.sh");
    }

    @Test
    void aBatchJobStartsTheModelServerStepsAndWaitsUntilEachIsReadyBeforeTheShardSteps() {
        OrchestratorSpec spec = spec().launcherOption("batch", "true").build();
        Placement batch = new Placement(List.of(new Placement.Node("batch-node-0", List.of()),
                new Placement.Node("batch-node-1", List.of()), new Placement.Node("batch-node-2", List.of())));
        LaunchPlan p = plan(spec, batch);
        String script = SlurmScripts.batch(p, SlurmOptions.parse(spec.launcherOptions()));
        int await = script.indexOf("await_model_server 2 ");
        assertThat(script.indexOf("--job-name=db-ai-2")).isPositive().isLessThan(await);
        assertThat(script.indexOf("--job-name=db_0")).isGreaterThan(await);
        Golden.assertMatches("batch-ai.sbatch", script);
    }

    @Test
    void withTlsTheModuleServesTooNothingIsRefused() {
        LaunchPlan p = plan(spec().tls(true).build(), allocation());
        assertThat(p.modelServers()).hasSize(3);
        assertThat(p.shards().get(0).config()).contains("tls-port 6780", "loadmodule ");
    }
}
