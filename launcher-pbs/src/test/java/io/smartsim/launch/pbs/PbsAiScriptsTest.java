package io.smartsim.launch.pbs;

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

/** --ai under PBS: plan and wrapper only (no PBS server runs here); the wrapper execs the front. */
class PbsAiScriptsTest {
    static final AiInstall INSTALL = new AiInstall("/usr/lib/jvm/java-17/bin/java", "/opt/smartsim/ai/*",
            "/opt/smartsim/ai", List.of("ONNX"));

    @Test
    void theWrapperExecsTheFrontWithTheServerBinaryAsFoundOnTheNode() {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").launcher("pbs").nodes(3)
                .ai(AiSpec.of(List.of("onnx"))).build();
        LaunchPlan p = Planner.plan("exp", Path.of("/exp"), spec, new Placement(List.of(
                new Placement.Node("n1", List.of()), new Placement.Node("n2", List.of()),
                new Placement.Node("n3", List.of()))), Optional.of(new io.smartsim.launch.security.Credentials(
                "smartsim", "0123456789abcdef0123456789abcdef")), Optional.of(INSTALL));
        String w = PbsScripts.wrapper(p, p.shards().get(0), Optional.empty(), "redis-server");
        assertThat(w).contains("io.smartsim.launch.ai.AiServerMain --port 6780 --redis-port 26780",
                "--server-argv redis-server /exp/db/db_0/redis.conf --bind");
        Golden.assertMatches("wrapper-ai-cluster.sh", w);
    }
}
