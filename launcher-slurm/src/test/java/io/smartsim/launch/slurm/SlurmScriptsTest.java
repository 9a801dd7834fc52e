package io.smartsim.launch.slurm;

import io.smartsim.launch.script.Shell;
import io.smartsim.launch.script.Template;

import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Golden files for the rendered wrapper and batch scripts, one per option combination that changes them. */
class SlurmScriptsTest {

    private static LaunchPlan plan(int nodes, int perNode, Map<String, String> options, String... hosts) {
        OrchestratorSpec.Builder b = OrchestratorSpec.builder().id("db").launcher("slurm").nodes(nodes)
                .instancesPerNode(perNode);
        options.forEach(b::launcherOption);
        OrchestratorSpec spec = b.build();
        List<Placement.Node> placed = new ArrayList<>();
        for (int n = 0; n < nodes; n++) {
            placed.add(new Placement.Node(hosts.length > 0 ? hosts[n] : "batch-node-" + n, List.of()));
        }
        return Planner.plan("exp", Path.of("/exp"), spec, new Placement(placed));
    }

    @Test
    void wrapperStandalone() {
        LaunchPlan p = plan(1, 1, Map.of(), "n1");
        Golden.assertMatches("wrapper-standalone.sh",
                SlurmScripts.wrapper(p, p.shards().get(0), List.of(), "redis-server"));
    }

    @Test
    void wrapperClusteredWithInterfaceAndAQuotedPath() {
        LaunchPlan p = plan(3, 1, Map.of(), "n1", "n2", "n3");
        Golden.assertMatches("wrapper-cluster-interface.sh",
                SlurmScripts.wrapper(p, p.shards().get(2), List.of("ib0"), "/opt/my redis/bin/redis-server"));
    }

    @Test
    void wrapperWithTwoInterfacesBindsBothAndAnnouncesTheFirst() {
        LaunchPlan p = plan(3, 1, Map.of(), "n1", "n2", "n3");
        Golden.assertMatches("wrapper-two-interfaces.sh",
                SlurmScripts.wrapper(p, p.shards().get(0), List.of("ib0", "eth0"), "redis-server"));
    }

    @Test
    void wrapperWithALeaseStartsItsGuardBeforeTheServerTakesItsPid() {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").launcher("slurm").nodes(3)
                .lease(java.time.Duration.ofMinutes(10)).build();
        LaunchPlan p = Planner.plan("exp", Path.of("/exp"), spec, new Placement(List.of(
                new Placement.Node("n1", List.of()), new Placement.Node("n2", List.of()),
                new Placement.Node("n3", List.of()))));
        Golden.assertMatches("wrapper-lease.sh", SlurmScripts.wrapper(p, p.shards().get(1), List.of(), "redis-server"));
        assertThat(SlurmScripts.all(p, SlurmOptions.parse(Map.of()))).containsKey("lease-guard.sh");
    }

    @Test
    void batchWithCpusPerShardAsksForThemOnTheJobAndEveryStep() {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").launcher("slurm").nodes(3).instancesPerNode(1)
                .cpusPerShard(4).launcherOption("batch", "true").build();
        LaunchPlan p = Planner.plan("exp", Path.of("/exp"), spec, new Placement(List.of(
                new Placement.Node("batch-node-0", List.of()), new Placement.Node("batch-node-1", List.of()),
                new Placement.Node("batch-node-2", List.of()))));
        Golden.assertMatches("batch-3x1-cpus.sbatch",
                SlurmScripts.batch(p, SlurmOptions.parse(p.spec().launcherOptions())));
    }

    @Test
    void everyScriptOfABatchLaunchKeyedByItsPathUnderThePlanDirectory() {
        LaunchPlan p = plan(3, 2, Map.of("batch", "true"));
        SlurmOptions o = SlurmOptions.parse(p.spec().launcherOptions());
        Map<String, String> all = SlurmScripts.all(p, o);
        assertThat(all.keySet()).containsExactly("db.sbatch", "db_0/db_0.slurm.sh", "db_1/db_1.slurm.sh",
                "db_2/db_2.slurm.sh", "db_3/db_3.slurm.sh", "db_4/db_4.slurm.sh", "db_5/db_5.slurm.sh", "ports-held.sh");
        assertThat(all.get("db.sbatch")).isEqualTo(SlurmScripts.batch(p, o));
        assertThat(all.get("db_3/db_3.slurm.sh")).isEqualTo(SlurmScripts.wrapper(p, p.shards().get(3), List.of(),
                "redis-server"));
        assertThat(p.dir().resolve("db_3/db_3.slurm.sh")).isEqualTo(SlurmScripts.wrapperPath(p.shards().get(3)));
        // The launcher's SPI answer for db plan is exactly what start writes.
        assertThat(new SlurmLauncher(new io.smartsim.launch.exec.LocalCommandRunner(), Map.of()).renderedScripts(p))
                .isEqualTo(all);
    }

    @Test
    void anAllocationLaunchWritesOnlyWrappersAndTheirPortCheck() {
        LaunchPlan p = plan(1, 1, Map.of(), "n1");
        assertThat(SlurmScripts.all(p, SlurmOptions.parse(p.spec().launcherOptions())).keySet())
                .containsExactly("db_0/db_0.slurm.sh", "ports-held.sh");
    }

    @Test
    void batchPlain() {
        LaunchPlan p = plan(3, 2, Map.of("batch", "true"));
        Golden.assertMatches("batch-3x2.sbatch", SlurmScripts.batch(p, SlurmOptions.parse(p.spec().launcherOptions())));
    }

    /**
     * --restart on-failure: the job outlives its own shard steps (restarted shards are steps from outside the script),
     * until db stop cancels it, its time limit, or with --lease the lease running out.
     */
    @Test
    void batchWithRestartAndALeaseOutlivesItsOwnStepsUntilTheLeaseRunsOut() {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").launcher("slurm").nodes(3)
                .launcherOption("batch", "true").restart(io.smartsim.launch.spec.RestartPolicy.ON_FAILURE)
                .lease(java.time.Duration.ofMinutes(10)).build();
        List<Placement.Node> placed = new ArrayList<>();
        for (int n = 0; n < 3; n++) {
            placed.add(new Placement.Node("batch-node-" + n, List.of()));
        }
        LaunchPlan p = Planner.plan("exp", Path.of("/exp"), spec, new Placement(placed));
        Golden.assertMatches("batch-3x1-restart-lease.sbatch",
                SlurmScripts.batch(p, SlurmOptions.parse(p.spec().launcherOptions())));
    }

    @Test
    void batchEveryOption() {
        LaunchPlan p = plan(1, 1, Map.of("batch", "true", "time", "00:30:00", "account", "proj1", "partition", "debug",
                "qos", "high", "constraint", "ib&haswell", "sbatch", "--mem=4G\n--exclusive"));
        Golden.assertMatches("batch-1x1-options.sbatch",
                SlurmScripts.batch(p, SlurmOptions.parse(p.spec().launcherOptions())));
    }

    @Test
    void shellQuoting() {
        assertThat(Shell.quote("/exp/db/db_0.conf")).isEqualTo("/exp/db/db_0.conf");
        assertThat(Shell.quote("a b")).isEqualTo("'a b'");
        assertThat(Shell.quote("it's")).isEqualTo("'it'\"'\"'s'");
        assertThat(Shell.quote("")).isEqualTo("''");
        assertThat(Shell.quote("$HOME")).isEqualTo("'$HOME'");
    }

    @Test
    void templatesAreStrict() {
        Template t = Template.resource(SlurmScripts.class, "shard-wrapper.sh");
        assertThatThrownBy(() -> t.render(Map.of("index", "0"))).hasMessageContaining("needs a value for");
        LaunchPlan p = plan(1, 1, Map.of(), "n1");
        assertThat(SlurmScripts.wrapper(p, p.shards().get(0), List.of(), "redis-server")).doesNotContain("{{");
    }

    @Test
    void batchWithReplicasAsksForEveryProcessAndPinsEachReplicaToTheNextNode() {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").launcher("slurm").nodes(3).instancesPerNode(1)
                .replicas(1).launcherOption("batch", "true").build();
        LaunchPlan p = Planner.plan("exp", Path.of("/exp"), spec, new Placement(List.of(
                new Placement.Node("batch-node-0", List.of()), new Placement.Node("batch-node-1", List.of()),
                new Placement.Node("batch-node-2", List.of()))));
        String script = SlurmScripts.batch(p, SlurmOptions.parse(p.spec().launcherOptions()));
        // 1 master + 1 replica per node; replica k+3 of master k runs on nodes[k+1].
        assertThat(script).contains("#SBATCH --ntasks-per-node=2\n");
        Golden.assertMatches("batch-3x1-replicas.sbatch", script);
    }
}
