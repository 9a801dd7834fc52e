package io.smartsim.launch.containers;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.exec.Transports;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 19: the Slurm launcher against a Slurm cluster of containers (controller, 3 compute nodes, login node; see
 * {@link SlurmCluster}), run here as from a laptop: {@code --remote login} over SSH, the experiment directory on the
 * cluster's shared file system. After every test nothing may be left on any node (checked inside each).
 */
@TestbedLock(TestbedLock.Bed.CONTAINERS)
class SlurmClusterIT {
    @RegisterExtension
    static final ContainerTestbed testbed = new ContainerTestbed();
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // this machine: processes of the experiment dir, the ports
    @TempDir
    static Path keys;
    @TempDir
    static Path fs;
    /** This machine's experiment directories; the cluster's shared file system is mounted at the same path. */
    @TempDir
    static Path expRoot;
    private static SlurmCluster cluster;

    private Path dir;
    private final List<String> jobs = new java.util.concurrent.CopyOnWriteArrayList<>(); // also added by a helper thread

    @BeforeAll
    static void clusterUp() throws Exception {
        long t0 = System.nanoTime();
        cluster = SlurmCluster.start(3, keys, fs, expRoot);
        System.out.printf("it-containers: Slurm cluster (ctl, c1-c3, login) up and idle in %.2f s%n",
                (System.nanoTime() - t0) / 1e9);
    }

    @AfterAll
    static void clusterDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @BeforeEach
    void experimentDir(TestInfo test) throws Exception {
        dir = Files.createDirectories(expRoot.resolve(test.getTestMethod().orElseThrow().getName()));
        leftovers.dir(dir);
    }

    @AfterEach
    void nothingLeftOnAnyNode() throws InterruptedException {
        if (!jobs.isEmpty()) {
            cluster.onLogin("scancel", String.join(",", jobs));
        }
        Transports.closeAll(); // the SSH sessions to the login node: one left open is a leftover there
        assertThat(Inside.leftovers(cluster.all(), dir, expRoot, Duration.ofSeconds(30)))
                .as("left inside the cluster's nodes after the test").isEmpty();
    }

    /** Starts a job holding {@code nodes} nodes (as a user's allocation) and waits until it runs; its id. */
    private String allocation(int nodes) throws InterruptedException {
        String job = cluster.onLogin("sbatch", "--parsable", "-N" + nodes, "-J", "holder", "--output=/dev/null",
                "--wrap", "sleep 600").strip().split(";")[0];
        jobs.add(job);
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String state = "";
        while (System.nanoTime() < until) {
            state = cluster.onLogin("squeue", "-h", "-j", job, "-o", "%T").strip();
            if (state.equals("RUNNING")) {
                return job;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the holder job " + job + " was not RUNNING within 60 s: " + state);
    }

    private OrchestratorSpec.Builder spec(int port) {
        return OrchestratorSpec.builder().id("db").launcher("slurm").nodes(3).instancesPerNode(1).port(port)
                .launcherOption("remote", "login").launcherOption("ssh-config", cluster.sshConfig().toString());
    }

    /**
     * As its own batch job, with {@code --restart on-failure}: a shard's redis-server killed inside its compute node is
     * started again there as a new step of the job (srun --jobid, spawned on the login node through the SSH session),
     * rejoins, and {@code db stop} ends the job. Each shard's node is told by its address and the process seen inside.
     */
    @Test
    void aBatchOrchestratorRestartsAShardKilledOnItsComputeNodeAndStopEndsTheJob() throws Exception {
        int port = leftovers.freeBase(1);
        try (Experiment exp = Experiment.create("slurm-containers", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(port).launcherOption("batch", "true")
                    .restart(RestartPolicy.ON_FAILURE).build());
            long t0 = System.nanoTime();
            exp.start(db);
            String job = db.shards().get(0).handle().get("jobId");
            jobs.add(job);
            System.out.printf("it-containers: batch job %s, 3 shards on c1-c3 healthy in %.2f s%n", job,
                    (System.nanoTime() - t0) / 1e9);
            assertThat(db.addresses()).containsExactlyInAnyOrder(cluster.nodeAddress(0) + ":" + port,
                    cluster.nodeAddress(1) + ":" + port, cluster.nodeAddress(2) + ":" + port);

            // The shard on c2, and its server as c2 sees it.
            LaunchedShard victim = db.shards().stream().filter(s -> s.host().equals(cluster.nodeAddress(1)))
                    .findFirst().orElseThrow();
            Inside.Host c2 = cluster.all().get(2);
            assertThat(c2.name()).isEqualTo("c2");
            List<String> before = servers(c2, port);
            assertThat(before).as("c2 runs one shard").hasSize(1);
            java.time.Instant killed = java.time.Instant.now();
            c2.exec("kill", "-9", before.get(0).substring(0, before.get(0).indexOf(' ')));

            List<Event> events = awaitEvents(exp, ev -> types(ev, victim.index()).contains(Event.REJOINED)
                    || types(ev, victim.index()).contains(Event.RESTART_FAILED), Duration.ofSeconds(90));
            assertThat(types(events, victim.index())).as(events.toString())
                    .containsExactly(Event.SHARD_DOWN, Event.RESTARTING, Event.RESTARTED, Event.REJOINED);
            System.out.printf("it-containers: kill -9 in c2 -> rejoined in %d ms%n", Duration.between(killed,
                    events.stream().filter(e -> e.type().equals(Event.REJOINED)).findFirst().orElseThrow().time())
                    .toMillis());
            LaunchedShard again = db.shards().get(victim.index());
            assertThat(again.host()).as("started again on its node").isEqualTo(victim.host());
            assertThat(again.handle().get("jobId")).as("as a step of the same job").isEqualTo(job);
            List<String> after = servers(c2, port);
            assertThat(after).as("c2 runs the restarted shard, and only it").hasSize(1).doesNotContainAnyElementsOf(
                    before);
            assertThat(db.health().healthy()).as(db.health().problems().toString()).isTrue();

            exp.stop(db);
            long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            String queued = cluster.onLogin("squeue", "-h", "-j", job, "-o", "%i %T").strip();
            while (!queued.isEmpty() && System.nanoTime() < until) { // COMPLETING a moment after scancel
                Thread.sleep(200);
                queued = cluster.onLogin("squeue", "-h", "-j", job, "-o", "%i %T").strip();
            }
            assertThat(queued).as("db stop ended the job").isEmpty();
        }
    }

    /**
     * {@code --replicas 1} as a batch job on 3 nodes: each master's replica runs on another compute node than its
     * master (anti-affinity), as Redis itself reports (each replica's master address) and as the nodes' process tables
     * show (one master and one replica process on each).
     */
    @Test
    void replicasRunOnAnotherComputeNodeThanTheirMaster() throws Exception {
        int port = leftovers.freeBase(2);
        try (Experiment exp = Experiment.create("slurm-containers", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(port).launcherOption("batch", "true").replicas(1).build());
            assertThat(db.plan().warnings()).isEmpty();
            exp.start(db);
            jobs.add(db.shards().get(0).handle().get("jobId"));
            HealthReport h = db.health();
            assertThat(h.healthy()).as(h.problems().toString()).isTrue();
            List<String> nodes = List.of(cluster.nodeAddress(0), cluster.nodeAddress(1), cluster.nodeAddress(2));
            for (int r = 3; r < 6; r++) {
                var replica = h.shards().get(r);
                assertThat(replica.role()).isEqualTo("slave");
                String master = replica.master().orElseThrow();
                assertThat(master).as("replica %d follows master %d", r, r - 3)
                        .isEqualTo(db.shards().get(r - 3).address());
                String replicaNode = replica.address().substring(0, replica.address().lastIndexOf(':'));
                String masterNode = master.substring(0, master.lastIndexOf(':'));
                assertThat(replicaNode).as("replica %d is on another node than its master", r)
                        .isNotEqualTo(masterNode).isIn(nodes);
            }
            for (Inside.Host host : cluster.all()) {
                long servers = host.processes().stream().filter(p -> p.contains("redis-server")).count();
                assertThat(servers).as("redis-server processes on %s", host.name())
                        .isEqualTo(host.name().matches("c\\d+") ? 2 : 0);
            }
            exp.stop(db);
        }
    }

    /**
     * The launcher where a user on a cluster runs it: the CLI on the login node (no {@code --remote}), a batch
     * orchestrator whose experiment directory is on the shared file system. Each command is its own process there;
     * the shards run on c1-c3 and nothing of them on the login node, whose {@code /tmp} is not the nodes'.
     */
    @Test
    void theCliOnTheLoginNodeStartsReportsAndStopsABatchOrchestratorOnTheComputeNodes() throws Exception {
        assertThat(SlurmCluster.CLI_JAR).as("the CLI's jar (mvn -pl it-containers -am verify builds it)").exists();
        int port = leftovers.freeBase(1);
        String exp = dir.resolve("exp").toString();
        var start = cluster.onLoginResult("java", "-jar", SlurmCluster.LOGIN_JAR, "db", "start", "--exp-dir", exp,
                "--launcher", "slurm", "--batch", "--nodes", "3", "--port", Integer.toString(port));
        assertThat(start.getExitCode()).as(start.getStdout() + start.getStderr()).isZero();
        String ssdb = start.getStdout().lines().filter(l -> l.startsWith("SSDB=")).findFirst().orElseThrow();
        assertThat(ssdb.substring("SSDB=".length()).split(",")).containsExactlyInAnyOrder(
                cluster.nodeAddress(0) + ":" + port, cluster.nodeAddress(1) + ":" + port,
                cluster.nodeAddress(2) + ":" + port);
        for (Inside.Host host : cluster.all()) {
            assertThat(servers(host, port)).as("redis-server on %s", host.name())
                    .hasSize(host.name().matches("c\\d+") ? 1 : 0);
        }

        var status = cluster.onLoginResult("java", "-jar", SlurmCluster.LOGIN_JAR, "db", "status", "--exp-dir", exp);
        assertThat(status.getExitCode()).as(status.getStdout() + status.getStderr()).isZero();
        assertThat(status.getStdout()).contains("RUNNING (cluster state ok)");

        var stop = cluster.onLoginResult("java", "-jar", SlurmCluster.LOGIN_JAR, "db", "stop", "--exp-dir", exp);
        assertThat(stop.getExitCode()).as(stop.getStdout() + stop.getStderr()).isZero();
        assertThat(stop.getStdout()).contains("no process left");
    }

    /**
     * A model that finds the database through {@code SSDB} alone, run by the CLI on the login node ({@code run
     * EXPERIMENT.yaml}): an orchestrator in an allocation and the model as a step of it, writing and reading a key on
     * whichever compute node Slurm gives it; run exits 0 once it completed, and stops the orchestrator. The files live
     * on the shared file system (written here into the directory mounted there).
     */
    @Test
    void aModelStepOnAComputeNodeWritesAndReadsThroughSsdbFromACliRunOnTheLoginNode() throws Exception {
        String job = allocation(3);
        int port = leftovers.freeBase(1);
        Path onFs = experimentFile(port, "  - { name: stepwriter, launcher: slurm, exe: ./ssdb-writer.sh,"
                + " env: { KEY: from-step, VALUE: \"42\" }, run: { alloc: \"" + job + "\" } }\n", job);
        runOnLogin(port);
        assertThat(Files.readString(onFs.resolve("exp/stepwriter/stepwriter.out"))).as("the step model's output")
                .startsWith("ok from-step=42 type=Clustered node=c").contains("step=" + job + ".");
    }

    /**
     * A model run as its own batch job ends for {@code run} on a cluster without Slurm accounting (no slurmdbd: sacct
     * fails with "Slurm accounting storage is disabled"), with its own exit code: its batch script writes the code
     * beside the model's output on the shared file system, and the launcher reads it once the job has left the
     * queue. Before that fix (issue 19) the model stayed RUNNING and {@code run} waited until killed.
     */
    @Test
    void aBatchModelEndsOnAClusterWithoutAccounting() throws Exception {
        String job = allocation(3);
        int port = leftovers.freeBase(1);
        assertThat(cluster.onLoginResult("sacct", "-n", "-j", job).getExitCode()).as("sacct fails on this cluster")
                .isNotZero();
        Path onFs = experimentFile(port, "  - { name: batchwriter, launcher: slurm, exe: ./ssdb-writer.sh,"
                + " env: { KEY: from-batch, VALUE: \"43\" }, run: { batch: { time: \"00:05:00\" } } }\n", job);
        String out = runOnLogin(port);
        assertThat(Files.readString(onFs.resolve("exp/batchwriter/batchwriter.out"))).as("the batch model's output")
                .startsWith("ok from-batch=43 type=Clustered node=c");
        assertThat(out).as("run's summary").containsPattern("(?m)^batchwriter +Model +[0-9]+ +COMPLETED +0 ");
        assertThat(onFs.resolve("exp/batchwriter/batchwriter.exit")).as("the code its script wrote").hasContent("0");
    }

    /** The same with a model that exits 5: run fails, and the model is FAILED with that code, not a guess. */
    @Test
    void aFailingBatchModelEndsWithItsExitCodeOnAClusterWithoutAccounting() throws Exception {
        String job = allocation(3);
        int port = leftovers.freeBase(1);
        experimentFile(port, "  - { name: batchfail, launcher: slurm, exe: ./ssdb-writer.sh, env: { KEY: fail,"
                + " VALUE: \"1\", EXIT_WITH: \"5\" }, run: { batch: { time: \"00:05:00\" } } }\n", job);
        var run = runOnLoginResult(port);
        assertThat(run.getExitCode()).as(run.getStdout() + run.getStderr()).isEqualTo(1);
        assertThat(run.getStdout()).containsPattern("(?m)^batchfail +Model +[0-9]+ +FAILED +5 ");
    }

    /**
     * A batch model whose job someone else cancels (here by hand, as a user or an administrator would) ends its
     * script before it writes a code, and sacct knows nothing here: the model ends CANCELLED from the end state squeue
     * still shows, saying why there is no code, and run fails instead of waiting for good.
     */
    @Test
    void aBatchModelWhoseJobSomeoneElseCancelsEndsSayingSoOnAClusterWithoutAccounting() throws Exception {
        String job = allocation(3);
        int port = leftovers.freeBase(1);
        experimentFile(port, "  - { name: sleeper, launcher: slurm, exe: /bin/sleep, args: [\"300\"],"
                + " run: { batch: { time: \"00:05:00\" } } }\n", job);
        java.util.concurrent.CompletableFuture<String> cancelled = java.util.concurrent.CompletableFuture
                .supplyAsync(() -> {
                    long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                    while (System.nanoTime() < until) {
                        String id = cluster.onLogin("squeue", "-h", "-n", "sleeper", "-t", "RUNNING", "-o", "%i")
                                .strip();
                        if (!id.isEmpty()) {
                            jobs.add(id);
                            cluster.onLogin("scancel", id);
                            return id;
                        }
                        try {
                            Thread.sleep(200);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            break;
                        }
                    }
                    return "";
                });
        var run = runOnLoginResult(port);
        String id = cancelled.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(id).as("the model's job was seen RUNNING and cancelled").isNotEmpty();
        assertThat(run.getExitCode()).as(run.getStdout() + run.getStderr()).isEqualTo(1);
        assertThat(run.getStdout()).containsPattern("(?m)^sleeper +Model +" + id + " +CANCELLED +- ")
                .contains("job " + id + " ended CANCELLED (squeue) before its model's step did, so there is no "
                        + "exit code");
    }

    /**
     * experiment.yaml and the model (ssdb-writer.sh) in this test's directory on the shared file system: an
     * orchestrator on 3 nodes in allocation {@code job}, and {@code models} (YAML list entries). Returns the directory
     * here that the nodes see at {@code dir}.
     */
    private Path experimentFile(int port, String models, String job) throws Exception {
        Path onFs = Files.createDirectories(fs.resolve(dir.getFileName().toString()));
        try (var in = getClass().getResourceAsStream("/models/slurm/ssdb-writer.sh")) {
            Files.write(onFs.resolve("ssdb-writer.sh"), in.readAllBytes());
        }
        Files.setPosixFilePermissions(onFs.resolve("ssdb-writer.sh"),
                java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(onFs.resolve("experiment.yaml"), "name: models\n"
                + "orchestrators:\n"
                + "  - { id: db, launcher: slurm, nodes: 3, instancesPerNode: 1, port: " + port
                + ", launcherOptions: { alloc: \"" + job + "\" } }\n"
                + "models:\n" + models);
        return onFs;
    }

    /** {@code smartsim-launch run experiment.yaml} on the login node, in this test's directory; must exit 0. Its stdout. */
    private String runOnLogin(int port) {
        var run = runOnLoginResult(port);
        String queue = run.getExitCode() == 0 ? "" : cluster.onLogin("squeue", "-a", "-s", "-o", "%i %j %N")
                + cluster.onLogin("squeue", "-a", "-o", "%i %j %T %N %r");
        assertThat(run.getExitCode()).as(run.getStdout() + run.getStderr() + "\nqueue:\n" + queue).isZero();
        return run.getStdout();
    }

    /**
     * {@code smartsim-launch run experiment.yaml} on the login node, in this test's directory, bounded there; checks
     * that it stopped the orchestrator on every node, whatever its outcome.
     */
    private org.testcontainers.containers.Container.ExecResult runOnLoginResult(int port) {
        assertThat(SlurmCluster.CLI_JAR).as("the CLI's jar (mvn -pl it-containers -am verify builds it)").exists();
        // Bounded on the login node (SIGTERM stops what run started), so that a stuck run says why: the queue then.
        var run = cluster.onLoginResult("sh", "-c",
                "cd \"$1\" && timeout 150 java -jar \"$2\" run experiment.yaml --exp-dir \"$3\"", "sh",
                dir.toString(), SlurmCluster.LOGIN_JAR, dir.resolve("exp").toString());
        for (Inside.Host host : cluster.all()) {
            assertThat(servers(host, port)).as("run stopped the orchestrator: redis-server on %s", host.name())
                    .isEmpty();
        }
        return run;
    }

    private static List<String> servers(Inside.Host host, int port) {
        return host.processes().stream().filter(p -> p.contains("redis-server") && p.contains(":" + port + " "))
                .toList();
    }

    private static List<Event> awaitEvents(Experiment exp, Predicate<List<Event>> done, Duration limit)
            throws InterruptedException {
        long until = System.nanoTime() + limit.toNanos();
        List<Event> events = exp.supervision("db").events();
        while (!done.test(events) && System.nanoTime() < until) {
            Thread.sleep(200);
            events = exp.supervision("db").events();
        }
        return events;
    }

    private static List<String> types(List<Event> events, int shard) {
        return events.stream().filter(e -> e.shard().map(s -> s == shard).orElse(false)).map(Event::type).toList();
    }

    @Test
    void anOrchestratorInAnAllocationRunsOneShardOnEachComputeNodeAndStopLeavesNothing() throws Exception {
        String job = allocation(3);
        int port = leftovers.freeBase(1);
        try (Experiment exp = Experiment.create("slurm-containers", dir)) {
            Orchestrator db = exp.createOrchestrator(spec(port).launcherOption("alloc", job).build());
            long t0 = System.nanoTime();
            exp.start(db);
            System.out.printf("it-containers: 3 shards in allocation %s on c1-c3 healthy in %.2f s%n", job,
                    (System.nanoTime() - t0) / 1e9);
            List<String> expected = List.of(cluster.nodeAddress(0) + ":" + port, cluster.nodeAddress(1) + ":" + port,
                    cluster.nodeAddress(2) + ":" + port);
            assertThat(db.addresses()).as("each shard on its own compute node's address")
                    .containsExactlyInAnyOrderElementsOf(expected);
            HealthReport h = db.health();
            assertThat(h.healthy()).as(h.problems().toString()).isTrue();
            List<Inside.Host> hosts = cluster.all();
            for (Inside.Host host : hosts) {
                List<String> servers = host.processes().stream().filter(p -> p.contains("redis-server")).toList();
                if (host.name().matches("c\\d+")) {
                    assertThat(servers).as("%s runs one shard", host.name()).hasSize(1);
                } else {
                    assertThat(servers).as("%s runs no shard", host.name()).isEmpty();
                }
            }
            exp.stop(db);
            List<String> steps = cluster.onLogin("squeue", "-h", "-s", "-j", job, "-o", "%i").lines()
                    .filter(l -> !l.isBlank()).toList();
            assertThat(steps).as("only the holder's own batch step is left").containsOnly(job + ".batch");
        }
    }
}
