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
import java.util.Map;
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
        return allocation(nodes, List.of());
    }

    /** As {@link #allocation(int)}, each node whole ({@code --exclusive}: all its CPUs, for 2 ranks a node). */
    private String exclusiveAllocation(int nodes) throws InterruptedException {
        return allocation(nodes, List.of("--exclusive"));
    }

    private String allocation(int nodes, List<String> options) throws InterruptedException {
        List<String> argv = new ArrayList<>(List.of("sbatch", "--parsable", "-N" + nodes));
        argv.addAll(options);
        argv.addAll(List.of("-J", "holder", "--output=/dev/null", "--wrap", "sleep 600"));
        String job = cluster.onLogin(argv.toArray(String[]::new)).strip().split(";")[0];
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
     * {@code db start} in an allocation, run on the login node and killed with SIGKILL once its shards' srun clients
     * exist there (no shutdown hook runs; the steps run on c1-c3, their clients on the login node outlive it): {@code
     * db cleanup}, another process on the login node, finds it STARTING and ends every step and client, so that
     * nothing is left on any node (the after-each check, inside every container) and the user's job runs on.
     */
    @Test
    void aDbStartKilledMidwayOnTheLoginNodeIsCleanedUpByDbCleanupOnEveryNode() throws Exception {
        assertThat(SlurmCluster.CLI_JAR).as("the CLI's jar (mvn -pl it-containers -am verify builds it)").exists();
        String job = allocation(3);
        int port = leftovers.freeBase(1);
        String exp = dir.resolve("exp").toString();
        Files.createDirectories(fs.resolve(dir.getFileName().toString()));
        String pid = cluster.onLogin("sh", "-c", "cd \"$1\" && { java -jar \"$2\" db start --exp-dir \"$3\" "
                + "--launcher slurm --alloc \"$4\" --nodes 3 --port \"$5\" --telemetry off > start.out 2> start.err "
                + "< /dev/null & echo $!; }", "sh", dir.toString(), SlurmCluster.LOGIN_JAR, exp, job,
                Integer.toString(port)).strip();
        long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        List<String> clients = List.of();
        while (System.nanoTime() < until) {
            clients = cluster.onLoginResult("pgrep", "-af", "srun").getStdout().lines()
                    .filter(l -> l.contains(exp)).toList();
            if (!clients.isEmpty()) {
                break;
            }
            Thread.sleep(50);
        }
        cluster.onLoginResult("kill", "-9", pid);
        assertThat(clients).as("the start's srun clients on the login node when it was killed; its stderr: %s",
                cluster.onLoginResult("cat", dir.resolve("start.err").toString()).getStdout()).isNotEmpty();

        var cleanup = cluster.onLoginResult("java", "-jar", SlurmCluster.LOGIN_JAR, "db", "cleanup", "--exp-dir",
                exp);
        assertThat(cleanup.getExitCode()).as(cleanup.getStdout() + cleanup.getStderr()).isZero();
        assertThat(cleanup.getStdout()).contains("(found STARTING)", " 0 left");
        for (Inside.Host host : cluster.all()) {
            assertThat(servers(host, port)).as("redis-server on %s after db cleanup", host.name()).isEmpty();
        }
        assertThat(cluster.onLogin("squeue", "-h", "-j", job, "-o", "%T").strip()).as("the user's job runs on")
                .isEqualTo("RUNNING");
        // Then the after-each check: no process (srun, slurmstepd, redis-server), socket or lock on any node.
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

    /** Y = X W + B, X [1, 4], Y [1, 3]: the model the colocated databases store (as it-ai's AiOrchestratorIT). */
    private static final float[] W = {0.5f, -1, 2, 1, 0.25f, -0.5f, -2, 3, 1, 0, 1, -1};
    private static final float[] B = {0.1f, -0.2f, 0.3f};

    /**
     * A rank of a colocated model, knowing only its environment: writes its key into its node's database (SSDB: a
     * socket or 127.0.0.1:PORT), waits until the node's other rank wrote too (at most 60 s), then, with "model" as
     * its first argument, runs the stored model "mlp" on its own input; prints one line (rank, node, the server's pid
     * as INFO gives it, the rank keys its database holds, the model's output), then waits for the file $2 (at most
     * 120 s) so that the test can look inside the nodes while it runs.
     */
    private static final String COLOCATED_RANK = """
            #!/bin/bash
            set -eu
            rank=$SLURM_PROCID
            node=$(hostname -s)
            case "$SSDB" in
                unix://*) cli=(redis-cli -s "${SSDB#unix://}") ;;
                *) cli=(redis-cli -h "${SSDB%:*}" -p "${SSDB##*:}") ;;
            esac
            "${cli[@]}" SET "rank:$rank" "$node" >/dev/null
            end=$((SECONDS + 60))
            while [ "$("${cli[@]}" DBSIZE)" -lt 2 ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
            pid=$("${cli[@]}" INFO server | tr -d '\\r' | sed -n 's/^process_id://p')
            keys=$("${cli[@]}" --raw KEYS 'rank:*' | sort | tr '\\n' ' ')
            y=-
            if [ "${1:-}" = model ]; then
                "${cli[@]}" AI.TENSORSET "x$rank" FLOAT 1 4 VALUES 1 2 3 4 >/dev/null
                "${cli[@]}" AI.MODELEXECUTE mlp INPUTS 1 "x$rank" OUTPUTS 1 "y$rank" >/dev/null
                y=$("${cli[@]}" AI.TENSORGET "y$rank" VALUES | tr '\\n' ' ')
            fi
            echo "rank $rank node $node pid $pid keys $keys y $y"
            end=$((SECONDS + 120))
            while [ ! -e "$2" ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
            """;

    /**
     * Issue 17 on separate hosts: a model of 3 nodes x 2 ranks (a step of an allocation, run by the CLI on the login
     * node) gets exactly one colocated database per compute node over a Unix socket in each node's own /tmp: per
     * node, one redis-server in its process table (pinned to CPU 0 by default), both its ranks reading the same
     * server pid through the socket, and that server holding exactly their two keys, not the other nodes'. After the
     * model ends, no server, socket or lock file is left on any node (the after-each check, and the model's
     * directory here).
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "as {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"a step of an allocation", "its own batch job"})
    void aColocatedModelOnThreeNodesGetsExactlyOneDatabasePerNodeAndLeavesNothing(String how) throws Exception {
        String run = how.startsWith("a step") ? "alloc: \"" + exclusiveAllocation(3) + "\""
                : "batch: { time: \"00:05:00\" }";
        Path onFs = colocatedExperiment("colo", "./colo-rank.sh", "[ranks, \"" + dir.resolve("go") + "\"]", run,
                "{ unixSocket: /tmp/ssdb-colo.sock, socketPermissions: 700 }");
        var started = java.util.concurrent.CompletableFuture.supplyAsync(() -> runOnLoginResult(Map.of()));
        List<String> lines = awaitRanks(onFs.resolve("exp/colo/colo.out"), started);
        Map<String, List<String[]>> byNode = new java.util.TreeMap<>();
        for (String l : lines) {
            String[] f = l.split(" ");
            byNode.computeIfAbsent(f[3], n -> new ArrayList<>()).add(f);
        }
        assertThat(byNode).as("ranks by node: %s", lines).containsOnlyKeys("c1", "c2", "c3");
        Map<String, String> pids = new java.util.TreeMap<>();
        for (int i = 1; i <= 3; i++) {
            Inside.Host node = cluster.all().get(i);
            List<String[]> ranks = byNode.get(node.name());
            assertThat(ranks).as("two ranks on %s", node.name()).hasSize(2);
            List<String> servers = node.processes().stream().filter(p -> p.contains("redis-server")).toList();
            assertThat(servers).as("exactly one database on %s", node.name()).hasSize(1);
            String pid = servers.get(0).substring(0, servers.get(0).indexOf(' '));
            assertThat(ranks).as("both ranks of %s reach that one server", node.name())
                    .allSatisfy(f -> assertThat(f[5]).isEqualTo(pid));
            String keys = "rank:" + ranks.get(0)[1] + " rank:" + ranks.get(1)[1];
            assertThat(ranks).as("its server holds its two ranks' keys and no other node's").allSatisfy(f ->
                    assertThat(String.join(" ", java.util.Arrays.asList(f).subList(7, 9))).isIn(keys,
                            "rank:" + ranks.get(1)[1] + " rank:" + ranks.get(0)[1]));
            assertThat(node.exec("grep", "Cpus_allowed_list", "/proc/" + pid + "/status"))
                    .as("pinned to CPU 0 by default").contains("\t0\n");
            assertThat(node.exec("ls", "/tmp")).as("the socket in %s's own /tmp", node.name())
                    .contains("ssdb-colo.sock");
            pids.put(node.name(), pid);
        }
        // db status on the login node, another host than every compute node: each node's database as that node
        // reported it into the model's directory (within a report interval of 5 s), healthy, with its own pid
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String status = "";
        while (System.nanoTime() < until) {
            status = cluster.onLoginResult("java", "-jar", SlurmCluster.LOGIN_JAR, "db", "status", "--exp-dir",
                    dir.resolve("exp").toString()).getStdout();
            String seen = status;
            if (pids.entrySet().stream().allMatch(e -> java.util.regex.Pattern.compile("(?m)^\\s+" + e.getKey()
                    + "\\s+unix:///tmp/ssdb-colo\\.sock\\s+" + e.getValue() + "\\s+healthy\\s").matcher(seen).find())) {
                break;
            }
            Thread.sleep(500);
        }
        for (Map.Entry<String, String> e : pids.entrySet()) {
            assertThat(status).as("db status from the login node").containsPattern("(?m)^\\s+" + e.getKey()
                    + "\\s+unix:///tmp/ssdb-colo\\.sock\\s+" + e.getValue() + "\\s+healthy\\s");
        }
        Files.createFile(onFs.resolve("go"));
        var result = started.get(150, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(result.getExitCode()).as(result.getStdout() + result.getStderr()).isZero();
        assertThat(result.getStdout()).containsPattern("(?m)^colo +Model +\\S+ +COMPLETED +0 ");
        for (int i = 1; i <= 3; i++) {
            assertThat(Files.readString(onFs.resolve("exp/colo/colocated-c" + i + ".log")))
                    .as("each node's database log stays").contains("ready to accept connections");
        }
        try (var files = Files.list(onFs.resolve("exp/colo"))) {
            assertThat(files.map(f -> f.getFileName().toString()))
                    .noneMatch(f -> f.endsWith(".pid") || f.startsWith(".colocated-") || f.endsWith(".error"));
        }
    }

    /**
     * Issue 17's preloaded model on separate hosts: each compute node's colocated database (TCP on loopback) stores
     * the ONNX model before its ranks start, through the smartsim-ai module and a model server beside it on that node
     * (this build's AI directory, mounted on the nodes as an installation on a shared file system would be); every
     * rank runs it by name and gets the model's arithmetic. One database and one model server per node while it runs;
     * none of them, nor their sockets, after.
     */
    @Test
    void eachNodesColocatedDatabaseStoresTheModelBeforeItsRanksRunIt() throws Exception {
        assertThat(SlurmCluster.AI_DIR.resolve("smartsim-ai.so")).as("ai-dist's AI directory (mvn verify builds it "
                + "before this module)").exists();
        String job = exclusiveAllocation(3);
        int port = leftovers.freeBase(1);
        Path onFs = colocatedExperiment("colomodel", "./colo-rank.sh", "[model, \"" + dir.resolve("go") + "\"]",
                "alloc: \"" + job + "\"",
                "{ port: " + port + ", pinning: [], models: [{ name: mlp, backend: ONNX, file: mlp.onnx }] }");
        Files.write(onFs.resolve("mlp.onnx"), io.smartsim.launch.ai.testing.OnnxModels.linear(4, 3, W, B));
        var run = java.util.concurrent.CompletableFuture.supplyAsync(() -> runOnLoginResult(Map.of(
                "SMARTSIM_AI_PATH", SlurmCluster.AI_DIR.toString())));
        List<String> lines = awaitRanks(onFs.resolve("exp/colomodel/colomodel.out"), run);
        float[] want = new float[3];
        for (int j = 0; j < 3; j++) {
            double acc = B[j];
            for (int k = 0; k < 4; k++) {
                acc += (k + 1) * (double) W[k * 3 + j];
            }
            want[j] = (float) acc;
        }
        for (String l : lines) {
            String[] y = l.substring(l.indexOf(" y ") + 3).trim().split("\\s+");
            assertThat(y).as(l).hasSize(3);
            for (int j = 0; j < 3; j++) {
                assertThat(Float.parseFloat(y[j])).as(l).isCloseTo(want[j], org.assertj.core.data.Offset.offset(1e-5f));
            }
        }
        assertThat(lines.stream().map(l -> l.split(" ")[3]).distinct()).as("ranks' nodes").hasSize(3);
        for (int i = 1; i <= 3; i++) {
            Inside.Host node = cluster.all().get(i);
            List<String> procs = node.processes();
            assertThat(procs.stream().filter(p -> p.contains("redis-server"))).as("one database on %s", node.name())
                    .hasSize(1);
            assertThat(procs.stream().filter(p -> p.contains("ModelServerMain"))).as("one model server on %s",
                    node.name()).hasSize(1);
        }
        Files.createFile(onFs.resolve("go"));
        var result = run.get(150, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(result.getExitCode()).as(result.getStdout() + result.getStderr()).isZero();
        assertThat(result.getStdout()).containsPattern("(?m)^colomodel +Model +\\S+ +COMPLETED +0 ");
        for (int i = 1; i <= 3; i++) {
            assertThat(Files.readString(onFs.resolve("exp/colomodel/colocated-c" + i + ".ai.out")))
                    .as("each node's model server's output stays").startsWith("ready socket=");
        }
        try (var files = Files.list(onFs.resolve("exp/colomodel"))) {
            assertThat(files.map(f -> f.getFileName().toString())).noneMatch(f -> f.endsWith(".pid")
                    || f.endsWith(".sock") || f.startsWith(".colocated-") || f.endsWith(".error"));
        }
    }

    /**
     * experiment.yaml with one colocated model {@code name} (3 nodes x 2 ranks, placed by {@code placement}: YAML
     * run settings such as {@code alloc: "7"} or {@code batch: {...}}; its {@code colocatedDb} as given in YAML flow
     * style) and the rank script, in this test's directory on the shared file system; the directory here that the
     * nodes see at {@code dir}.
     */
    private Path colocatedExperiment(String name, String exe, String args, String placement, String colocatedDb)
            throws Exception {
        Path onFs = Files.createDirectories(fs.resolve(dir.getFileName().toString()));
        Files.writeString(onFs.resolve("colo-rank.sh"), COLOCATED_RANK);
        Files.setPosixFilePermissions(onFs.resolve("colo-rank.sh"),
                java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(onFs.resolve("experiment.yaml"), "name: " + name + "\n"
                + "models:\n"
                + "  - name: " + name + "\n"
                + "    launcher: slurm\n"
                + "    exe: " + exe + "\n"
                + "    args: " + args + "\n"
                + "    run: { nodes: 3, tasksPerNode: 2, " + placement + " }\n"
                + "    colocatedDb: " + colocatedDb + "\n");
        return onFs;
    }

    /**
     * The 6 ranks' lines of a colocated model's output, once all are there (at most 120 s); fails with the run's
     * output if it ended first.
     */
    private static List<String> awaitRanks(Path out,
            java.util.concurrent.CompletableFuture<org.testcontainers.containers.Container.ExecResult> run)
            throws Exception {
        long until = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        List<String> lines = List.of();
        while (System.nanoTime() < until) {
            lines = Files.exists(out) ? Files.readAllLines(out).stream().filter(l -> l.startsWith("rank ")).toList()
                    : List.of();
            if (lines.size() == 6) {
                return lines;
            }
            if (run.isDone()) {
                var r = run.get();
                throw new AssertionError("run ended (exit " + r.getExitCode() + ") before the 6 ranks wrote: "
                        + lines + "\n" + r.getStdout() + r.getStderr());
            }
            Thread.sleep(200);
        }
        throw new AssertionError("not all 6 ranks wrote within 120 s: " + lines);
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
        var run = runOnLoginResult(Map.of());
        for (Inside.Host host : cluster.all()) {
            assertThat(servers(host, port)).as("run stopped the orchestrator: redis-server on %s", host.name())
                    .isEmpty();
        }
        return run;
    }

    /**
     * {@code smartsim-launch run experiment.yaml} on the login node, in this test's directory, with {@code env} added
     * to its environment, bounded there (150 s, then SIGTERM, which stops what run started).
     */
    private org.testcontainers.containers.Container.ExecResult runOnLoginResult(Map<String, String> env) {
        assertThat(SlurmCluster.CLI_JAR).as("the CLI's jar (mvn -pl it-containers -am verify builds it)").exists();
        List<String> argv = new ArrayList<>(List.of("env"));
        env.forEach((k, v) -> argv.add(k + "=" + v));
        // Bounded on the login node, so that a stuck run says why: the queue then.
        argv.addAll(List.of("sh", "-c",
                "cd \"$1\" && timeout 150 java -jar \"$2\" run experiment.yaml --exp-dir \"$3\"", "sh",
                dir.toString(), SlurmCluster.LOGIN_JAR, dir.resolve("exp").toString()));
        return cluster.onLoginResult(argv.toArray(String[]::new));
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
