package io.smartsim.launch.pbs;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.error.ReadinessTimeoutException;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.util.Deadline;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The launcher against OpenPBS 23.06 where it behaves unlike the testbed's Torque-style front end (slurm-wlm-torque
 * over Slurm), from the facts observed on a real OpenPBS 23.06.06 in /work/shared/notes/pbs.md. No PBS server can run
 * on our machines (PBS skips every 127.0.0.0/8 address for its daemons), so the scheduler's commands are played here
 * by a {@link CommandRunner} that answers with the notes' real output (fixtures/README.txt says where each came from);
 * everything else is real: the launcher, the shells, this machine's /proc/net/tcp, its sockets.
 */
@Timeout(60)
class OpenPbsTest {
    private static final String PRO_VERSION = "pbs_version = 23.06.06\n";

    @TempDir
    Path tmp;

    /** Plays OpenPBS's commands: each call is recorded, then answered by {@code answer}. */
    static final class OpenPbs implements CommandRunner {
        final List<List<String>> calls = new CopyOnWriteArrayList<>();
        private final Function<List<String>, CommandResult> answer;

        OpenPbs(Function<List<String>, CommandResult> answer) {
            this.answer = answer;
        }

        @Override
        public CommandResult run(List<String> argv, Map<String, String> env, Duration timeout) {
            calls.add(List.copyOf(argv));
            return answer.apply(argv);
        }

        @Override
        public String where() {
            return "localhost";
        }

        long count(String... prefix) {
            return calls.stream().filter(c -> c.size() >= prefix.length
                    && c.subList(0, prefix.length).equals(List.of(prefix))).count();
        }
    }

    private static CommandResult ok(List<String> argv, String stdout) {
        return new CommandResult(argv, 0, stdout, "");
    }

    /** OpenPBS 23.06 without job history: "qstat: Unknown Job Id ID", exit 153. */
    private static CommandResult unknown(List<String> argv) {
        return new CommandResult(argv, 153, "", "qstat: Unknown Job Id " + argv.get(argv.size() - 1) + "\n");
    }

    /**
     * Models OpenPBS's {@code pbsdsh -n INDEX -- PROGRAM ARGS...} as the notes observed it inside a 3-node job: the task
     * runs (here, on this machine: every "node" of this test is this machine), its exit status comes back, but its
     * output does not: "out=$(pbsdsh -n 1 -- /bin/echo hi) leaves out empty; hi appears in the job's own output file
     * (.o<seq>), mixed with the job script's output". Anything else is {@code rest}.
     */
    private static Function<List<String>, CommandResult> pbsdsh(Path jobOutput, Function<List<String>, CommandResult> rest) {
        return argv -> {
            if (!argv.get(0).equals("pbsdsh")) {
                return rest.apply(argv);
            }
            assertThat(argv.subList(1, 4)).as("pbsdsh -n INDEX --").satisfies(a -> {
                assertThat(a.get(0)).isEqualTo("-n");
                assertThat(a.get(2)).isEqualTo("--");
            });
            try {
                Process p = new ProcessBuilder(argv.subList(4, argv.size())).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(jobOutput.toFile())).start();
                return new CommandResult(argv, p.waitFor(), "", "");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        };
    }

    /** Inside job 13.vm (notes sample C: three MoMs n1-n3), PBS_NODEFILE as the notes show it: n1 n2 n3. */
    private Map<String, String> insideJob() throws IOException {
        Path nodeFile = Files.writeString(tmp.resolve("13.vm.nodefile"), "n1\nn2\nn3\n");
        return Map.of("PBS_JOBID", "13.vm", "PBS_NODEFILE", nodeFile.toString());
    }

    // --- issue 20 point 1: --port auto and the fixed-port check through OpenPBS's pbsdsh -------------------------

    @Test
    void portAutoThroughOpenPbsDshReadsEachNodesAnswerFromAFileAndKeepsTheJobOutputClean() throws Exception {
        Path jobOutput = tmp.resolve("job.o13");
        Files.writeString(jobOutput, "output of the user's job script\n");
        OpenPbs pbs = new OpenPbs(pbsdsh(jobOutput, argv -> {
            throw new AssertionError("unexpected command " + argv);
        }));
        PbsLauncher launcher = new PbsLauncher(pbs, insideJob());
        int base = Processes.freeBase(4);
        try (ServerSocket held = new ServerSocket()) {
            held.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), base + 1));
            OrchestratorSpec spec = launcher.choosePorts(OrchestratorSpec.builder().launcher("pbs").nodes(3)
                    .instancesPerNode(2).port(base).autoPort(true).launcherOption("runCommand", "pbsdsh")
                    .launcherOption("dialect", "pro").build(), tmp.resolve("exp"));
            // Every "node" is this machine: base+1 is held on each, so base+2 is the first base free on all three.
            assertThat(spec.port()).isEqualTo(base + 2);
        }
        assertThat(pbs.count("pbsdsh", "-n")).as("one pbsdsh per node").isEqualTo(3);
        assertThat(Files.readString(jobOutput)).as("the job's output file").isEqualTo("output of the user's job "
                + "script\n");
        try (var left = Files.walk(tmp.resolve("exp"))) {
            assertThat(left.filter(Files::isRegularFile).toList()).as("answer files removed once read").isEmpty();
        }
    }

    @Test
    void aFixedPortHeldOnANodeIsCaughtBeforeAnyShardStartsThroughOpenPbsDsh() throws Exception {
        Path jobOutput = tmp.resolve("job.o13");
        Files.writeString(jobOutput, "");
        OpenPbs pbs = new OpenPbs(pbsdsh(jobOutput, argv -> {
            throw new AssertionError("unexpected command " + argv);
        }));
        PbsLauncher launcher = new PbsLauncher(pbs, insideJob());
        int base = Processes.freeBase(2);
        OrchestratorSpec spec = OrchestratorSpec.builder().launcher("pbs").nodes(3).instancesPerNode(1).port(base)
                .launcherOption("runCommand", "pbsdsh").launcherOption("dialect", "pro").build();
        LaunchPlan plan = Planner.plan("exp", tmp.resolve("exp"), spec, launcher.place(spec));
        try (ServerSocket held = new ServerSocket()) {
            held.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), base + OrchestratorSpec.BUS_PORT_OFFSET));
            assertThatThrownBy(() -> launcher.preflight(plan)).isInstanceOf(InvalidSpecException.class)
                    .hasMessageContaining("is already in use on node n1 of job 13.vm (held by pid "
                            + ProcessHandle.current().pid() + " (java))");
        }
        assertThat(Files.readString(jobOutput)).as("the job's output file").isEmpty();
        // One probe per node, then the holder looked up on the node named, both answered through files.
        assertThat(pbs.calls).extracting(c -> c.get(0) + " -n " + c.get(2)).containsExactlyInAnyOrder("pbsdsh -n 0",
                "pbsdsh -n 1", "pbsdsh -n 2", "pbsdsh -n 0");
    }

    @Test
    void aNodeThatWritesNoAnswerIsNamed() throws Exception {
        // A pbsdsh that runs nothing but says 0: as when the answer is written where this machine cannot see it.
        OpenPbs pbs = new OpenPbs(argv -> ok(argv, ""));
        PbsLauncher launcher = new PbsLauncher(pbs, insideJob());
        OrchestratorSpec spec = OrchestratorSpec.builder().launcher("pbs").nodes(1).port(Processes.freeBase(1))
                .autoPort(true).launcherOption("runCommand", "pbsdsh").launcherOption("dialect", "pro").build();
        assertThatThrownBy(() -> launcher.choosePorts(spec, tmp.resolve("exp"))).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("node n1 of job 13.vm did not answer: pbsdsh returned (exit code 0) but ")
                .hasMessageContaining("did not appear here within 10 s; the experiment directory must be on a file "
                        + "system the nodes share");
    }

    @Test
    void anAnswerFileHoldsBothStreamsAndTheExitCodeAndNothingIsPrinted() throws Exception {
        Path answer = tmp.resolve("exp/orchestrator/.answer");
        List<String> argv = PbsCommands.answerInFile(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), answer);
        Process p = new ProcessBuilder(argv).start();
        String printed = new String(p.getInputStream().readAllBytes()) + new String(p.getErrorStream().readAllBytes());
        assertThat(p.waitFor()).isZero();
        assertThat(printed).as("printed by the task (would land in the job's output)").isEmpty();
        assertThat(PbsParsers.NodeAnswer.parse(Files.readString(answer)))
                .contains(new PbsParsers.NodeAnswer(3, "out\nerr\n"));
        assertThat(answer.resolveSibling(".answer.tmp")).doesNotExist();
        assertThat(PbsParsers.NodeAnswer.parse("listen n1 00000000:1A85\n")).as("no exit line: not whole").isEmpty();
    }

    // --- issue 20 point 2: a killed shard inside a running job ---------------------------------------------------

    @Test
    void inARunningJobAShardWhosePortRefusesIsGoneAndOneThatAcceptsIsNot() throws Exception {
        // Notes sample C: job 13.vm running on n1-n3.
        OpenPbs pbs = new OpenPbs(argv -> ok(argv, Golden.fixture("openpbs-23.06-running-3nodes.json")));
        PbsLauncher launcher = new PbsLauncher(pbs, Map.of());
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort(); // listened, now closed: a kill -9'd shard's port refuses connections
        }
        try (ServerSocket hung = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Map<String, String> handle = Map.of(PbsLauncher.JOB, "13.vm", PbsLauncher.MODE, PbsLauncher.MODE_BATCH,
                    PbsLauncher.DIALECT, "pro", PbsLauncher.RUN, "pbsdsh");
            List<LaunchedShard> shards = List.of(
                    new LaunchedShard(0, "s0", "127.0.0.1", closed, Optional.empty(), Optional.empty(), handle),
                    new LaunchedShard(1, "s1", "127.0.0.1", hung.getLocalPort(), Optional.empty(), Optional.empty(),
                            handle));
            assertThat(launcher.probe(shards)).containsEntry(0, Liveness.GONE).containsEntry(1, Liveness.UNKNOWN);
        }
        assertThat(pbs.calls).containsExactly(List.of("qstat", "-f", "-F", "json", "-x", "13.vm"));
    }

    // --- issue 20 point 3: a job PBS can never run ----------------------------------------------------------------

    @Test
    void aJobThatCanNeverRunFailsAtOnceWithPbsReasonAndIsDeleted() {
        List<Boolean> deleted = new CopyOnWriteArrayList<>(List.of(false));
        OpenPbs pbs = new OpenPbs(argv -> switch (argv.get(0)) {
            case "qsub" -> ok(argv, "9.vm\n");
            case "qdel" -> {
                deleted.set(0, true);
                yield ok(argv, "");
            }
            // Queued for ever with PBS's comment (constructed from the notes: see fixtures/README.txt); gone once deleted.
            case "qstat" -> deleted.get(0) ? unknown(argv)
                    : ok(argv, Golden.fixture("openpbs-constructed-can-never-run.json"));
            default -> throw new AssertionError("unexpected command " + argv);
        });
        PbsLauncher launcher = new PbsLauncher(pbs, Map.of());
        // 2 nodes x 2 shards x 3 CPUs: select=2:ncpus=6, 12 ncpus on a complex of 6.
        OrchestratorSpec spec = OrchestratorSpec.builder().launcher("pbs").nodes(2).instancesPerNode(2).cpusPerShard(3)
                .startupTimeout(Duration.ofSeconds(5)).launcherOption("batch", "true").launcherOption("dialect", "pro")
                .launcherOption("runCommand", "mpiexec").build();
        LaunchPlan plan = Planner.plan("exp", tmp.resolve("exp"), spec, launcher.place(spec));
        assertThat(PbsScripts.resources(plan, Dialect.PRO)).contains("#PBS -l select=2:ncpus=6:mpiprocs=2");
        List<String> progress = new ArrayList<>();
        assertThatThrownBy(() -> launcher.start(plan, new LaunchContext(Deadline.after(spec.startupTimeout()),
                progress::add, s -> { }))).isInstanceOf(LaunchException.class)
                .isNotInstanceOf(ReadinessTimeoutException.class)
                .hasMessage("batch job 9.vm of 'orchestrator' can never run; PBS says: Can Never Run: Insufficient "
                        + "amount of resource: ncpus (R: 12 A: 6 T: 6) (12 ncpus requested, 6 available, 6 in total). "
                        + "The job was deleted (qdel). Ask for what the queue's nodes have: fewer --nodes, --per-node "
                        + "or --cpus, or another --queue");
        assertThat(pbs.count("qstat", "-f")).as("qstat before the failure and until the job was gone").isEqualTo(2);
        assertThat(pbs.calls).contains(List.of("qdel", "9.vm"));
        assertThat(deleted.get(0)).isTrue();
    }

    @Test
    void canNeverRunIsToldFromNotRunning() {
        assertThat(PbsParsers.qstatJson(Golden.fixture("openpbs-constructed-can-never-run.json")).get(0).neverRuns())
                .isTrue();
        // Notes sample F: "Not Running: ..." may still run later; a held job is not refused either.
        assertThat(PbsParsers.qstatJson(Golden.fixture("openpbs-23.06-queued-and-held-partial.json")))
                .noneMatch(PbsParsers.Job::neverRuns);
        assertThat(PbsParsers.shortfall("Can Never Run: Insufficient amount of resource: ncpus (R: 12 A: 6 T: 6)"))
                .contains("12 ncpus requested, 6 available, 6 in total");
        assertThat(PbsParsers.shortfall("Not Running: No available resources on nodes")).isEmpty();
    }

    // --- issue 20 point 4: the job's state, exit status and comment after qdel --------------------------------------

    private static List<LaunchedShard> batchShards(String job) {
        Map<String, String> handle = Map.of(PbsLauncher.JOB, job, PbsLauncher.MODE, PbsLauncher.MODE_BATCH,
                PbsLauncher.DIALECT, "pro", PbsLauncher.RUN, "pbsdsh");
        return List.of(new LaunchedShard(0, "s0", "127.0.0.1", 1, Optional.empty(), Optional.empty(), handle),
                new LaunchedShard(1, "s1", "127.0.0.1", 2, Optional.empty(), Optional.empty(), handle));
    }

    @Test
    void afterQdelTheEndedJobIsToldInPbsWordsFromQstatHistory() {
        // Notes sample D: the 3-node job after qdel, as qstat -x shows it with job_history_enable=True.
        OpenPbs pbs = new OpenPbs(argv -> argv.contains("-x") ? ok(argv,
                Golden.fixture("openpbs-23.06-qdel-3nodes-partial.json")) : unknown(argv));
        assertThat(new PbsLauncher(pbs, Map.of()).endedJobs(batchShards("13.vm"))).contains("batch job 13.vm "
                + "finished, exit status 271: killed by signal 15 (SIGTERM, e.g. qdel) (Job run at Wed Nov 25 at 17:08 "
                + "on (n1:ncpus=1)+(n2:ncpus=1)+(n3:ncpus=1) and terminated by pbsuser@vm)");
        assertThat(pbs.calls).containsExactly(List.of("qstat", "-f", "-F", "json", "-x", "13.vm"));
    }

    @Test
    void withoutJobHistoryAnEndedJobIsToldAsEndedWithItsExitStatusUnknown() {
        OpenPbs pbs = new OpenPbs(OpenPbsTest::unknown);
        assertThat(new PbsLauncher(pbs, Map.of()).endedJobs(batchShards("13.vm"))).contains("batch job 13.vm is no "
                + "longer listed by PBS: it ended, exit status unknown (the server keeps finished jobs only with "
                + "job_history_enable=True)");
    }

    @Test
    void aRunningJobIsNotCalledEnded() {
        OpenPbs pbs = new OpenPbs(argv -> ok(argv, Golden.fixture("openpbs-23.06-running-3nodes.json")));
        assertThat(new PbsLauncher(pbs, Map.of()).endedJobs(batchShards("13.vm"))).isEmpty();
    }
}
