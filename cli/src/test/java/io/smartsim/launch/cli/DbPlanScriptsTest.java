package io.smartsim.launch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.planned.LaunchPlan;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code db plan} shows the scripts a launcher would write (Slurm's batch script and wrappers), writing none. */
class DbPlanScriptsTest {
    @TempDir
    Path tmp;

    @Test
    void slurmBatchPlanPrintsTheSbatchScriptAndTheWrappersUnderHeadings() {
        Path exp = tmp.resolve("exp");
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", exp.toString(), "--launcher", "slurm", "--nodes", "3",
                "--batch", "--time", "00:10:00", "--partition", "debug");

        assertThat(r.exit()).as(r.toString()).isZero();
        Path dir = exp.resolve("orchestrator");
        List<String> lines = r.out().lines().toList();
        assertThat(headings(lines)).containsExactly(
                "script orchestrator.sbatch (" + dir.resolve("orchestrator.sbatch") + "):",
                "script orchestrator_0/orchestrator_0.slurm.sh (" + dir.resolve("orchestrator_0/orchestrator_0.slurm.sh")
                        + "):",
                "script orchestrator_1/orchestrator_1.slurm.sh (" + dir.resolve("orchestrator_1/orchestrator_1.slurm.sh")
                        + "):",
                "script orchestrator_2/orchestrator_2.slurm.sh (" + dir.resolve("orchestrator_2/orchestrator_2.slurm.sh")
                        + "):",
                "script ports-held.sh (" + dir.resolve("ports-held.sh") + "):");
        assertThat(lines).contains("  #SBATCH --nodes=3", "  #SBATCH --time=00:10:00", "  #SBATCH --partition=debug",
                "  report=" + dir.resolve("orchestrator_1/orchestrator_1.where"));
        assertThat(lines.get(lines.size() - 1)).startsWith("preflight: ");
        assertThat(exp).as("plan writes nothing").doesNotExist();
    }

    @Test
    void manyScriptsShowTheFirstTwoAndNameTheRest() {
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", tmp.resolve("e").toString(), "--launcher", "slurm",
                "--nodes", "3", "--per-node", "2", "--batch");

        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(headings(r.out().lines().toList())).hasSize(2);
        assertThat(r.out()).contains("\nand 6 more script(s), orchestrator_1/orchestrator_1.slurm.sh to "
                + "ports-held.sh (--json prints every one)\n");
    }

    @Test
    void jsonKeepsThePlanShapeAndAddsRenderedScripts() throws Exception {
        Path exp = tmp.resolve("exp");
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", exp.toString(), "--launcher", "slurm", "--nodes", "3",
                "--per-node", "2", "--batch", "--json");

        assertThat(r.exit()).as(r.toString()).isZero();
        LaunchPlan plan = Json.mapper().readValue(r.out(), LaunchPlan.class);
        assertThat(plan.shards()).hasSize(6);
        JsonNode scripts = Json.mapper().readTree(r.out()).get("renderedScripts");
        List<String> names = new ArrayList<>();
        scripts.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("orchestrator.sbatch", "orchestrator_0/orchestrator_0.slurm.sh",
                "orchestrator_1/orchestrator_1.slurm.sh", "orchestrator_2/orchestrator_2.slurm.sh",
                "orchestrator_3/orchestrator_3.slurm.sh", "orchestrator_4/orchestrator_4.slurm.sh",
                "orchestrator_5/orchestrator_5.slurm.sh", "ports-held.sh");
        assertThat(scripts.get("orchestrator.sbatch").asText()).startsWith("#!/bin/bash\n")
                .contains("#SBATCH --ntasks-per-node=2\n");
    }

    @Test
    void localPlanHasNoScriptsAndAnEmptyJsonMap() throws Exception {
        Cli.Result text = Cli.run("db", "plan", "--exp-dir", tmp.resolve("e").toString());
        assertThat(headings(text.out().lines().toList())).isEmpty();

        Cli.Result json = Cli.run("db", "plan", "--exp-dir", tmp.resolve("e").toString(), "--json");
        assertThat(Json.mapper().readTree(json.out()).get("renderedScripts").size()).isZero();
    }

    private static List<String> headings(List<String> lines) {
        return lines.stream().filter(l -> l.startsWith("script ")).toList();
    }
}
