package io.smartsim.launch.slurm;

import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.plan.AiInstall;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** --ai under Slurm: the srun step's wrapper execs the front, whose server gets the node's --bind at the end. */
class SlurmAiScriptsTest {
    static final AiInstall INSTALL = new AiInstall("/usr/lib/jvm/java-17/bin/java", "/opt/smartsim/ai/*",
            "/opt/smartsim/ai", List.of("ONNX"));

    @Test
    void theWrapperExecsTheFrontWithTheServerBinaryAsFoundOnTheNode() {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").launcher("slurm").nodes(3).auth(false)
                .ai(AiSpec.of(List.of("onnx"))).build();
        LaunchPlan p = Planner.plan("exp", Path.of("/exp"), spec, new Placement(List.of(
                new Placement.Node("n1", List.of()), new Placement.Node("n2", List.of()),
                new Placement.Node("n3", List.of()))), Optional.empty(), Optional.of(INSTALL));
        String w = SlurmScripts.wrapper(p, p.shards().get(1), List.of(), "/opt/redis/bin/redis-server");
        assertThat(w).contains("--server-argv /opt/redis/bin/redis-server /exp/db/db_1/redis.conf --bind \"${addrs[@]}\""
                + " --cluster-announce-ip \"$addr\"");
        Golden.assertMatches("wrapper-ai-cluster.sh", w);
    }
}
