package io.smartsim.launch.pbs;

import io.smartsim.launch.script.Shell;
import io.smartsim.launch.script.Template;

import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Golden files for the rendered wrapper and qsub scripts: both dialects, each run command, every option. */
class PbsScriptsTest {

    private static LaunchPlan plan(int nodes, int perNode, Map<String, String> options, String... hosts) {
        OrchestratorSpec.Builder b = OrchestratorSpec.builder().id("db").launcher("pbs").nodes(nodes)
                .instancesPerNode(perNode);
        options.forEach(b::launcherOption);
        OrchestratorSpec spec = b.build();
        List<Placement.Node> placed = new ArrayList<>();
        for (int n = 0; n < nodes; n++) {
            placed.add(new Placement.Node(hosts.length > 0 ? hosts[n] : "batch-node-" + n, List.of()));
        }
        return Planner.plan("exp", Path.of("/exp"), spec, new Placement(placed));
    }

    private static String batch(LaunchPlan p, Dialect d, RunCommand r) {
        String script = PbsScripts.batch(p, PbsOptions.parse(p.spec().launcherOptions()), d, r);
        assertBashParses(script);
        return script;
    }

    /** Every rendered script is valid bash: {@code bash -n} reads it without running it. */
    private static void assertBashParses(String script) {
        try {
            Path f = Files.createTempFile("pbs-script", ".sh");
            try {
                Files.writeString(f, script);
                Process p = new ProcessBuilder("bash", "-n", f.toString()).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes());
                assertThat(p.waitFor()).as("bash -n: %s", out).isZero();
            } finally {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void proDialectSelectAndScatterWithSsh() {
        LaunchPlan p = plan(3, 2, Map.of("batch", "true", "sshConfig", "/etc/smartsim/ssh config"));
        Golden.assertMatches("batch-pro-3x2-ssh.pbs", batch(p, Dialect.PRO, RunCommand.SSH));
    }

    @Test
    void torqueDialectNodesPpnWithPbsdshAndEveryOption() {
        LaunchPlan p = plan(3, 2, Map.of("batch", "true", "time", "01:30:00", "queue", "debug", "account", "proj1",
                "pbs", "-l mem=4gb\n-m n"));
        Golden.assertMatches("batch-torque-3x2-pbsdsh-options.pbs", batch(p, Dialect.TORQUE, RunCommand.PBSDSH));
    }

    @Test
    void proDialectOneShardWithMpiexecAndWalltime() {
        LaunchPlan p = plan(1, 1, Map.of("batch", "true", "time", "00:10:00", "queue", "workq"));
        Golden.assertMatches("batch-pro-1x1-mpiexec.pbs", batch(p, Dialect.PRO, RunCommand.MPIEXEC));
    }

    @Test
    void cpusPerShardScaleTheChunkAndPpn() {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").launcher("pbs").nodes(2).instancesPerNode(2)
                .cpusPerShard(4).launcherOption("batch", "true").build();
        LaunchPlan p = Planner.plan("exp", Path.of("/exp"), spec, new Placement(List.of(
                new Placement.Node("batch-node-0", List.of()), new Placement.Node("batch-node-1", List.of()))));
        assertThat(PbsScripts.resources(p, Dialect.PRO)).contains("#PBS -l select=2:ncpus=8:mpiprocs=2",
                "#PBS -l place=scatter");
        assertThat(PbsScripts.resources(p, Dialect.TORQUE)).contains("#PBS -l nodes=2:ppn=8");
    }

    @Test
    void wrapperClusteredWithInterfaceAndAQuotedPath() {
        LaunchPlan p = plan(3, 1, Map.of(), "n1", "n2", "n3");
        String w = PbsScripts.wrapper(p, p.shards().get(2), Optional.of("ib0"), "/opt/my redis/bin/redis-server");
        assertBashParses(w);
        Golden.assertMatches("wrapper-cluster-interface.sh", w);
    }

    /**
     * {@code --tls} in a PBS batch job: each shard's config names the orchestrator's TLS files under its directory
     * (written on the launching machine, read by the node through the shared file system) and turns the plain port
     * off; the wrapper and qsub script are the same as without TLS (the node needs nothing else).
     */
    @Test
    void tlsConfigOfABatchShardUsesTheOrchestratorsFilesAndTheScriptsDoNotChange() {
        OrchestratorSpec.Builder b = OrchestratorSpec.builder().id("db").launcher("pbs").nodes(3).instancesPerNode(1)
                .auth(false).tls(true).launcherOption("batch", "true").launcherOption("runCommand", "ssh");
        List<Placement.Node> placed = List.of(new Placement.Node("batch-node-0", List.of()),
                new Placement.Node("batch-node-1", List.of()), new Placement.Node("batch-node-2", List.of()));
        LaunchPlan tls = Planner.plan("exp", Path.of("/exp"), b.build(), new Placement(placed));
        LaunchPlan plain = Planner.plan("exp", Path.of("/exp"), b.tls(false).build(), new Placement(placed));
        assertThat(tls.tls().orElseThrow().dir()).isEqualTo(Path.of("/exp/db/tls"));
        Golden.assertMatches("config-tls-batch-shard1.conf", tls.shards().get(1).config());
        assertThat(PbsScripts.batch(tls, PbsOptions.parse(tls.spec().launcherOptions()), Dialect.PRO, RunCommand.SSH))
                .isEqualTo(PbsScripts.batch(plain, PbsOptions.parse(plain.spec().launcherOptions()), Dialect.PRO,
                        RunCommand.SSH));
        assertThat(PbsScripts.wrapper(tls, tls.shards().get(1), Optional.empty(), "redis-server"))
                .isEqualTo(PbsScripts.wrapper(plain, plain.shards().get(1), Optional.empty(), "redis-server"));
    }

    /**
     * {@code --lease}: the wrapper starts the lease guard (on the shared file system, watching its own pid, which the
     * server keeps through exec) just before it execs the server; the same wrapper for both dialects and every run
     * command, in an existing job or a batch job. Without a lease the line is absent.
     */
    @Test
    void wrapperWithALeaseStartsTheGuardBeforeExec() {
        OrchestratorSpec.Builder b = OrchestratorSpec.builder().id("db").launcher("pbs").nodes(3).instancesPerNode(1)
                .lease(java.time.Duration.ofMinutes(10));
        List<Placement.Node> placed = List.of(new Placement.Node("n1", List.of()), new Placement.Node("n2", List.of()),
                new Placement.Node("n3", List.of()));
        LaunchPlan leased = Planner.plan("exp", Path.of("/exp"), b.build(), new Placement(placed));
        String w = PbsScripts.wrapper(leased, leased.shards().get(1), Optional.empty(), "redis-server");
        assertBashParses(w);
        Golden.assertMatches("wrapper-lease.sh", w);
        assertThat(w.indexOf("/bin/bash /exp/db/lease-guard.sh \"$$\" 1")).isPositive().isLessThan(w.lastIndexOf("\nexec "));
        LaunchPlan plain = Planner.plan("exp", Path.of("/exp"), b.lease(null).build(), new Placement(placed));
        assertThat(PbsScripts.wrapper(plain, plain.shards().get(1), Optional.empty(), "redis-server"))
                .doesNotContain("lease");
        for (Dialect d : Dialect.values()) {
            for (String mode : List.of("false", "true")) {
                LaunchPlan p = Planner.plan("exp", Path.of("/exp"), b.lease(java.time.Duration.ofMinutes(10))
                        .launcherOption("dialect", d.option()).launcherOption("batch", mode).build(),
                        new Placement(placed));
                Map<String, String> rendered = new PbsLauncher().renderedScripts(p);
                assertThat(rendered).as("%s, batch=%s", d, mode).containsKey("lease-guard.sh")
                        .containsEntry("db_0/db_0.pbs.sh", PbsScripts.wrapper(p, p.shards().get(0), Optional.empty(),
                                "redis-server"));
                assertThat(rendered.get("db_0/db_0.pbs.sh")).contains("/bin/bash /exp/db/lease-guard.sh \"$$\" 0 >> "
                        + "/exp/db/db_0/db_0.lease.out 2>&1 < /dev/null &");
            }
        }
    }

    @Test
    void wrapperStandalone() {
        LaunchPlan p = plan(1, 1, Map.of(), "n1");
        Golden.assertMatches("wrapper-standalone.sh",
                PbsScripts.wrapper(p, p.shards().get(0), Optional.empty(), "redis-server"));
    }

    @Test
    void doubleQuotingEscapesWhatTheShellWouldExpand() {
        assertThat(Shell.doubleQuoted("bash '/a b/$x'\"`\\ ", "${nodes[0]}"))
                .isEqualTo("\"bash '/a b/\\$x'\\\"\\`\\\\ ${nodes[0]}\"");
    }

    @Test
    void renderedScriptsForAPlanAreTheOnesStartWrites() {
        LaunchPlan p = plan(3, 2, Map.of("batch", "true", "dialect", "torque", "runCommand", "ssh"));
        Map<String, String> scripts = new PbsLauncher().renderedScripts(p);
        assertThat(scripts).containsOnlyKeys("db.pbs", "ports-held.sh", "db_0/db_0.pbs.sh");
        assertThat(scripts.get("ports-held.sh")).isEqualTo(io.smartsim.launch.util.ListeningPorts.heldScript());
        assertThat(scripts.get("db.pbs")).isEqualTo(PbsScripts.batch(p, PbsOptions.parse(p.spec().launcherOptions()),
                Dialect.TORQUE, RunCommand.SSH));
    }

    @Test
    void templatesAreStrict() {
        Template t = Template.resource(PbsScripts.class, "orchestrator.pbs");
        assertThatThrownBy(() -> t.render(Map.of("id", "db"))).hasMessageContaining("needs a value for");
    }

    @Test
    void replicasCountInEveryChunkAndEachRunsOnTheNodeAfterItsMasters() {
        OrchestratorSpec spec = OrchestratorSpec.builder().id("db").launcher("pbs").nodes(3).instancesPerNode(1)
                .replicas(1).launcherOption("batch", "true").build();
        LaunchPlan p = Planner.plan("exp", Path.of("/exp"), spec, new Placement(List.of(
                new Placement.Node("batch-node-0", List.of()), new Placement.Node("batch-node-1", List.of()),
                new Placement.Node("batch-node-2", List.of()))));
        assertThat(PbsScripts.resources(p, Dialect.PRO)).contains("#PBS -l select=3:ncpus=2:mpiprocs=2");
        assertThat(PbsScripts.resources(p, Dialect.TORQUE)).contains("#PBS -l nodes=3:ppn=2");
        Golden.assertMatches("batch-pro-3x1-replicas-ssh.pbs", batch(p, Dialect.PRO, RunCommand.SSH));
    }
}
