package io.smartsim.launch.pbs;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.pbs.PbsTestJobs.SH;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 20, points 1 and 2, run for real on the testbed's PBS front end (slurm-wlm-torque over the 3-node Slurm
 * testbed, nodes n1-n3 at 127.0.1.1-3), with a {@code pbsdsh} that behaves as OpenPBS 23.06's did in
 * /work/shared/notes/pbs.md: the task runs on its node as a task of the job and its exit status comes back, but its
 * output goes to the job's output file, not to the caller (src/test/resources/openpbs/pbsdsh, a stand-in: the testbed
 * has no pbsdsh, and no PBS server can run here). {@code db start} runs as a user runs it inside the job: a process of
 * its own ({@link OpenPbsJobStart}) with the job's {@code PBS_JOBID} and {@code PBS_NODEFILE} and that pbsdsh first on
 * PATH, so {@code runCommand=auto} picks it as on a real OpenPBS.
 */
@Timeout(300)
@TestbedLock(TestbedLock.Bed.SLURM)
@TestbedLock(TestbedLock.Bed.PBS)
class OpenPbsDshIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every node's address
    private static final List<String> NODE_ADDRESSES = List.of("127.0.1.1", "127.0.1.2", "127.0.1.3");
    /** Hand-picked for the batch job (its nodes are only known inside it, so no free base can be asked for). */
    private static final int BATCH_PORT = 13800;

    @TempDir
    Path tmp;
    private final List<String> jobs = new ArrayList<>();

    @BeforeAll
    static void frontEnd() {
        PbsTestJobs.frontEndUp();
    }

    @AfterEach
    void nothingLeft() {
        if (!jobs.isEmpty()) {
            SH.run(PbsCommands.qdel(jobs), PbsTestJobs.CMD);
        }
        // Then the Leftovers check: processes by working dir, ports (bus and --ai too) on every node's address.
    }

    /** The stand-in pbsdsh in a directory of its own, to go first on PATH. */
    private Path openPbsBin() throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("openpbs-bin"));
        Path pbsdsh = bin.resolve("pbsdsh");
        try (var in = getClass().getResourceAsStream("/openpbs/pbsdsh")) {
            Files.copy(in, pbsdsh);
        }
        Files.setPosixFilePermissions(pbsdsh, PosixFilePermissions.fromString("rwxr-xr-x"));
        return bin;
    }

    /** What {@link OpenPbsJobStart} printed, and its exit code. */
    private record Started(int exitCode, String output) {
        String line(String prefix) {
            return output.lines().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length()))
                    .findFirst().orElseThrow(() -> new AssertionError("no '" + prefix + "' line in:\n" + output));
        }
    }

    /** {@code db start} in a process of its own, with {@code env} on top of this one's and the stand-in first on PATH. */
    private Started start(Map<String, String> env, String... args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> argv = new ArrayList<>(List.of(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"), OpenPbsJobStart.class.getName(), tmp.resolve("exp").toString()));
        argv.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        Map<String, String> e = pb.environment();
        e.putAll(env);
        e.put("PATH", openPbsBin() + ":" + System.getenv("PATH"));
        Path out = tmp.resolve("db-start.out");
        Process p = pb.redirectOutput(out.toFile()).start();
        if (!p.waitFor(200, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("db start did not return within 200 s:\n" + Files.readString(out));
        }
        String printed = Files.readString(out);
        System.out.print(printed);
        return new Started(p.exitValue(), printed);
    }

    /** A 3-node holder job, as a user's job script holds its nodes, and the environment inside it. */
    private Map<String, String> insideHolder() throws Exception {
        String id = PbsTestJobs.holder(tmp, jobs::add);
        // The job's own PBS_NODEFILE (the testbed's TaskProlog writes it on the job's first node): one line per slot.
        Path nodeFile = Files.writeString(tmp.resolve("nodefile"), "n1\nn2\nn3\n");
        return Map.of("PBS_JOBID", id, "PBS_NODEFILE", nodeFile.toString());
    }

    /** What the stand-in pbsdsh wrote to the job's output file: where a probe's output would land on OpenPBS. */
    private static List<String> probeLinesIn(Path jobOutput) throws IOException {
        if (!Files.exists(jobOutput)) {
            return List.of();
        }
        return Files.readAllLines(jobOutput).stream().filter(l -> l.startsWith("listen ") || l.startsWith("done ")
                || l.startsWith(PbsCommands.EXIT_MARK) || l.startsWith("pid ")).toList();
    }

    @Test
    void portAutoInsideAnOpenPbsJobMovesTheBaseOnEveryNodeAndKeepsTheJobOutputClean() throws Exception {
        Map<String, String> env = insideHolder();
        int base = leftovers.freeBase(4);
        Started s;
        try (ServerSocket held = new ServerSocket()) {
            held.bind(new InetSocketAddress("127.0.1.3", base + 1)); // on n3's address
            s = start(env, "nodes=3", "perNode=2", "port=" + base, "auto=true");
        }
        assertThat(s.exitCode()).as(s.output()).isZero();
        assertThat(s.output()).contains("run command pbsdsh (auto: found pbsdsh");
        // Two shards per node: base+1 held on n3 rules out base and base+1 on every node.
        assertThat(s.line("PORTS ")).isEqualTo(String.join(",", List.of(base + 2, base + 3, base + 2, base + 3, base + 2,
                base + 3).stream().map(String::valueOf).toList()));
        try (Experiment exp = Experiment.reconnect(tmp.resolve("exp"))) {
            assertThat(exp.status("orchestrator").state()).isEqualTo("RUNNING");
            exp.stop(exp.orchestrator("orchestrator"));
        }
        assertThat(probeLinesIn(tmp.resolve("holder.out"))).as("probe output in the job's output file").isEmpty();
        try (var files = Files.walk(tmp.resolve("exp"))) {
            assertThat(files.filter(f -> f.getFileName().toString().startsWith(".ports-")).toList())
                    .as("answer files removed once read").isEmpty();
        }
        assertThat(Processes.serversUnder(tmp)).as("servers after db stop").isEmpty();
        assertThat(PbsTestJobs.job(env.get("PBS_JOBID")).map(PbsParsers.Job::running).orElse(false))
                .as("the user's job outlives the orchestrator").isTrue();
    }

    @Test
    void aFixedPortHeldOnANodeOfAnOpenPbsJobIsRefusedBeforeAnyShardStarts() throws Exception {
        Map<String, String> env = insideHolder();
        int base = leftovers.freeBase(2);
        int bus = base + OrchestratorSpec.BUS_PORT_OFFSET;
        Started s;
        try (ServerSocket held = new ServerSocket()) {
            held.bind(new InetSocketAddress("127.0.1.2", bus)); // n2's bus port
            s = start(env, "nodes=3", "perNode=1", "port=" + base);
        }
        assertThat(s.exitCode()).as(s.output()).isEqualTo(1);
        // n1-n3 share this machine's kernel, so each node lists the socket: the first shard's node is named.
        assertThat(s.line("ERROR ")).matches("InvalidSpecException: port: .*, but " + bus + " is already in use on node "
                + "n[123] of job " + java.util.regex.Pattern.quote(env.get("PBS_JOBID")) + " \\(held by pid "
                + ProcessHandle.current().pid() + " \\(java\\)\\);.*");
        try (var files = Files.walk(tmp.resolve("exp"))) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".where")
                    || n.endsWith(".log") || n.startsWith(".ports-") || n.startsWith(".holder-")).toList())
                    .as("no shard started (no report, no log) and no answer file left").isEmpty();
        }
        assertThat(probeLinesIn(tmp.resolve("holder.out"))).as("probe output in the job's output file").isEmpty();
        assertThat(Processes.serversUnder(tmp)).as("no server started").isEmpty();
    }

    /**
     * Point 2: as a batch job with {@code --replicas 1} (pbsdsh picked by auto, as on the real OpenPBS), {@code kill -9}
     * of one master: once its replica has taken over, {@code db status} says DEGRADED and serving (exit code 3 in the
     * CLI, docs/replicas.md), not UNHEALTHY: the killed shard's port refuses connections inside a running job, so it
     * is gone. Then point 4 live: after {@code qdel} the status names the job's state (this front end's qstat has no
     * exit status or comment; the OpenPBS JSON is OpenPbsTest's).
     */
    @Test
    void aKilledMasterInABatchJobIsGoneAndTheOrchestratorDegradedButServing() throws Exception {
        leftovers.shardPorts(BATCH_PORT, 2);
        Started s = start(Map.of(), "nodes=3", "perNode=1", "replicas=1", "port=" + BATCH_PORT, "batch=true");
        String job = s.output().lines().filter(l -> l.startsWith("progress: submitted batch job "))
                .map(l -> l.split(" ")[4]).findFirst().orElse(null);
        if (job != null) {
            jobs.add(job);
        }
        assertThat(s.exitCode()).as(s.output()).isZero();
        assertThat(s.output()).contains("run command pbsdsh (auto: found pbsdsh");
        Path exp = tmp.resolve("exp");
        try (Experiment e = Experiment.reconnect(exp)) {
            assertThat(e.status("orchestrator").state()).isEqualTo("RUNNING");
            LaunchedShard master = e.orchestrator("orchestrator").shards().get(0);
            long pid = Long.parseLong(master.handle().get(PbsLauncher.NODE_PID));
            assertThat(Files.readString(Path.of("/proc", Long.toString(pid), "comm"))).as("shard 0's server, pid %d",
                    pid).startsWith("redis");
            assertThat(SH.run(List.of("kill", "-9", Long.toString(pid)), PbsTestJobs.CMD).ok()).isTrue();
            long t0 = System.nanoTime();
            OrchestratorStatus st = e.status("orchestrator");
            long until = t0 + Duration.ofSeconds(60).toNanos();
            while (!(st.state().equals("DEGRADED") && st.serving()) && System.nanoTime() < until) {
                Thread.sleep(500);
                st = e.status("orchestrator");
            }
            System.out.printf("DEGRADED and serving %.1f s after kill -9 (state %s, serving %s)%n",
                    (System.nanoTime() - t0) / 1e9, st.state(), st.serving());
            assertThat(st.state()).as("state 60 s after kill -9 of master 0; %s", st.health()).isEqualTo("DEGRADED");
            assertThat(st.serving()).as("a replica took over every slot").isTrue();
            assertThat(st.liveness()).containsEntry(0, io.smartsim.launch.spi.Launcher.Liveness.GONE);
            assertThat(st.liveness().values().stream().filter(l -> l == io.smartsim.launch.spi.Launcher.Liveness.GONE))
                    .as("only the killed one is gone").hasSize(1);

            assertThat(SH.run(PbsCommands.qdel(List.of(job)), PbsTestJobs.CMD).ok()).isTrue();
            assertThat(PbsTestJobs.awaitFinished(job)).as("batch job %s ended by qdel", job).isTrue();
            assertThat(Processes.leftUnder(tmp, Processes.GRACE)).as("qdel ended the pbsdsh tasks").isEmpty();
            OrchestratorStatus after = e.status("orchestrator");
            assertThat(after.state()).isEqualTo("STALE");
            assertThat(after.error()).hasValueSatisfying(m -> assertThat(m).contains("batch job " + job + " "));
            System.out.println("status after qdel: " + after.error().orElse(""));
            e.cleanup(java.util.Optional.of("orchestrator"));
        }
    }
}
