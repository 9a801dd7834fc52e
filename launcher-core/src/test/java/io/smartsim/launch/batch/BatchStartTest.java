package io.smartsim.launch.batch;

import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.Detached;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.script.Shell;
import io.smartsim.launch.cluster.Landing;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.util.Deadline;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The batch-scheduler skeleton with a dialect whose commands are real processes on this machine: a wrapper script
 * that reports where its shard landed and execs redis-server with the shard's config, started by {@code bash} as the
 * run command ("in an allocation"), or by a submitted "job" that is a {@code setsid bash} script running every
 * wrapper (its id is its pid, it runs while that process lives, cancelling it kills its process group). The real
 * schedulers' dialects run against the Slurm and PBS testbeds in those modules' ITs.
 */
@Timeout(120)
class BatchStartTest {
    @TempDir
    Path dir;

    private final List<Long> jobs = new CopyOnWriteArrayList<>();
    private final List<Detached> runCommands = new CopyOnWriteArrayList<>();

    @AfterEach
    void stopEverything() throws InterruptedException {
        for (long job : jobs) {
            ProcessHandle.of(job).ifPresent(h -> killGroup(job));
        }
        for (Detached d : runCommands) {
            d.terminate(Duration.ofSeconds(5));
        }
        assertThat(Processes.leftUnder(dir, Processes.GRACE)).as("nothing this test started is left").isEmpty();
    }

    private static void killGroup(long pgid) {
        new LocalCommandRunner().run(List.of("kill", "-KILL", "--", "-" + pgid), Duration.ofSeconds(5));
    }

    private LaunchPlan plan(int shards) {
        int base = Processes.freeBase(shards);
        return Planner.plan("exp", dir, OrchestratorSpec.builder().nodes(1).instancesPerNode(shards).port(base)
                .startupTimeout(Duration.ofSeconds(30)).build(),
                new Placement(List.of(new Placement.Node("localhost", List.of("127.0.0.1")))));
    }

    private static LaunchContext context(List<String> progress, List<LaunchedShard> spawned, Duration budget) {
        return new LaunchContext(Deadline.after(budget), progress::add, spawned::add);
    }

    record ShellReport(String address, int port, String node) implements BatchDialect.Report {
    }

    /**
     * Real processes as the scheduler: see the class comment. {@code fail} names a shard whose wrapper fails;
     * {@code reports} changes what the skeleton is told a wrapper reported.
     */
    private class ShellDialect extends BatchDialect.Base<ShellReport> {
        private final Optional<Integer> fail;
        private final UnaryOperator<Optional<ShellReport>> reports;
        final List<String> calls = new CopyOnWriteArrayList<>();

        ShellDialect(LaunchPlan plan, boolean batch, Optional<Integer> fail,
                     UnaryOperator<Optional<ShellReport>> reports) {
            super(plan, new LocalCommandRunner(), batch, new BatchDialect.Words("bash", "its wrapper",
                    "everything this launch started was stopped"), plan.dir().resolve("job.sh"),
                    plan.dir().resolve("job.out"));
            this.fail = fail;
            this.reports = reports;
        }

        ShellDialect(LaunchPlan plan, boolean batch, Optional<Integer> fail) {
            this(plan, batch, fail, UnaryOperator.identity());
        }

        @Override
        public String cancelled() {
            return "killed";
        }

        @Override
        public Path reportPath(ShardPlan s) {
            return s.workDir().resolve("report");
        }

        @Override
        public Path consoleLog(ShardPlan s) {
            return s.workDir().resolve("console.out");
        }

        private Path wrapper(ShardPlan s) {
            return s.workDir().resolve("wrapper.sh");
        }

        @Override
        public Map<Path, String> scripts() {
            Map<Path, String> out = new LinkedHashMap<>();
            StringBuilder job = new StringBuilder("#!/bin/bash\n");
            for (ShardPlan s : plan.shards()) {
                out.put(wrapper(s), String.join("\n", "#!/bin/bash", "report=" + Shell.quote(reportPath(s).toString()),
                        Landing.WRAPPER_FAIL.strip(),
                        fail.equals(Optional.of(s.index())) ? "fail 3 \"no address for node n" + s.index() + "\"" : "",
                        "printf 'address=127.0.0.1\\nport=%s\\nnode=n%s\\n' " + s.port() + " " + s.index()
                                + " > \"$report.tmp\" && mv -f \"$report.tmp\" \"$report\"",
                        "exec redis-server " + Shell.quote(s.configPath().toString()), ""));
                job.append("bash ").append(Shell.quote(wrapper(s).toString())).append(" > ")
                        .append(Shell.quote(consoleLog(s).toString())).append(" 2>&1 &\n");
            }
            job.append("wait\n");
            if (batch()) {
                out.put(batchScript(), job.toString());
            }
            return out;
        }

        @Override
        public String submit(Duration timeout) {
            CommandResult r = runner.run(List.of("bash", "-c", "setsid bash " + Shell.quote(batchScript().toString())
                    + " > " + Shell.quote(batchOutput().toString()) + " 2>&1 < /dev/null & echo $!"), timeout);
            calls.add("submit");
            long pid = Long.parseLong(r.stdout().strip());
            jobs.add(pid);
            return Long.toString(pid);
        }

        @Override
        public Optional<BatchDialect.JobState> job(String jobId) {
            return ProcessHandle.of(Long.parseLong(jobId)).filter(ProcessHandle::isAlive)
                    .map(h -> new BatchDialect.JobState(true, false, "localhost", "running", Optional.empty(), ""));
        }

        @Override
        public RuntimeException ended(String jobId, String when, Optional<BatchDialect.JobState> job) {
            return new ShardStartException("job " + jobId + " ended " + when);
        }

        @Override
        public void checkBatch(String jobId, List<Optional<LaunchedShard>> landed) {
            calls.add("check");
            if (job(jobId).isEmpty()) {
                throw ended(jobId, "while its shards were starting", Optional.empty());
            }
        }

        @Override
        public void cancelJob(String jobId) throws InterruptedException {
            calls.add("cancel " + jobId);
            killGroup(Long.parseLong(jobId));
            ProcessHandle.of(Long.parseLong(jobId)).ifPresent(h -> h.onExit().join());
        }

        @Override
        public String allocation() {
            return "alloc-1";
        }

        @Override
        public Detached spawn(ShardPlan s, String jobId, Duration timeout) {
            Detached d = runner.spawn(List.of("bash", wrapper(s).toString()), s.workDir(), consoleLog(s), timeout);
            runCommands.add(d);
            return d;
        }

        @Override
        public String started(int count, String jobId) {
            return "started " + count + " shard(s) in " + jobId;
        }

        @Override
        public void cancelInAllocation(String jobId, List<LaunchedShard> landed, List<Detached> started)
                throws InterruptedException {
            calls.add("cancel " + landed.size() + " landed, " + started.size() + " started");
            for (Detached d : started) {
                d.terminate(Duration.ofSeconds(5));
            }
        }

        @Override
        public Optional<ShellReport> readReport(ShardPlan s) {
            return reports.apply(Landing.unlessFailed(runner.readFile(reportPath(s), Duration.ofSeconds(5))).map(t -> {
                Map<String, String> kv = Reports.fields(t, List.of("address", "port", "node"));
                return new ShellReport(kv.get("address"), Integer.parseInt(kv.get("port")), kv.get("node"));
            }));
        }

        @Override
        public void record(ShardPlan s, ShellReport r, Map<String, String> handle, Optional<Detached> carrier) {
            handle.put("shell", "yes");
        }

        @Override
        public boolean recordsRunCommand() {
            return true;
        }

        @Override
        public String node(ShellReport r) {
            return r.node();
        }

        @Override
        public String upAs(LaunchedShard shard, String jobId) {
            return shard.address() + " (node " + shard.handle().get(BatchStart.NODE) + ")";
        }

    }

    @Test
    void inAnAllocationEachShardIsStartedByItsRunCommandAndRecordedWhereItLanded() throws Exception {
        LaunchPlan plan = plan(3);
        ShardPlan first = plan.shards().get(0);
        Files.createDirectories(first.workDir());
        Files.writeString(first.logPath(), "the last run's log\n");
        Files.writeString(first.workDir().resolve("nodes-" + first.port() + ".conf"), "an old cluster's node map\n");
        List<String> progress = new CopyOnWriteArrayList<>();
        List<LaunchedShard> spawned = new CopyOnWriteArrayList<>();
        ShellDialect dialect = new ShellDialect(plan, false, Optional.empty());

        List<LaunchedShard> up = BatchStart.run(plan, context(progress, spawned, Duration.ofSeconds(60)), dialect);

        assertThat(up).extracting(LaunchedShard::port).containsExactly(first.port(), first.port() + 1,
                first.port() + 2);
        assertThat(up.get(1).handle()).containsEntry(BatchStart.JOB, "alloc-1").containsEntry(BatchStart.NODE, "n1")
                .containsEntry(BatchStart.MODE, BatchStart.MODE_ALLOC).containsEntry("shell", "yes");
        assertThat(up.get(0).pid()).as("the run command's pid, from the dialect").isPresent();
        assertThat(spawned).as("each shard recorded once it landed").hasSize(3);
        assertThat(progress).hasSize(4).first().isEqualTo("started 3 shard(s) in alloc-1");
        for (int i = 0; i < 3; i++) {
            String line = "shard " + i + " up on 127.0.0.1:" + (first.port() + i) + " (node n" + i + ") (";
            assertThat(progress).anyMatch(l -> l.startsWith(line));
        }
        assertThat(Files.readString(first.logPath().resolveSibling(first.logPath().getFileName() + ".1")))
                .isEqualTo("the last run's log\n");
        Path nodeMap = first.workDir().resolve("nodes-" + first.port() + ".conf");
        assertThat(Files.exists(nodeMap) ? Files.readString(nodeMap) : "").as("a stale node map is removed (the new "
                + "server writes its own)").doesNotContain("an old cluster's node map");
        assertThat(dialect.calls).as("nothing cancelled").isEmpty();
    }

    @Test
    void aWrapperThatFailsEndsTheStartAtOnceAndWhatWasStartedIsStopped() {
        LaunchPlan plan = plan(3);
        ShellDialect dialect = new ShellDialect(plan, false, Optional.of(1));
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> BatchStart.run(plan, context(new ArrayList<>(), new ArrayList<>(),
                Duration.ofSeconds(60)), dialect))
                .isInstanceOf(ShardStartException.class)
                .hasMessageStartingWith("shard 1 (" + plan.shards().get(1).name() + ") of '" + plan.id() + "' on port "
                        + plan.shards().get(1).port() + ": no address for node n1; everything this launch started "
                        + "was stopped.");
        assertThat(System.nanoTime() - t0).as("no wait for the deadline").isLessThan(Duration.ofSeconds(30).toNanos());
        assertThat(dialect.calls).singleElement().asString().startsWith("cancel ").endsWith(" 3 started");
        assertThat(runCommands).allSatisfy(d -> assertThat(d.exit()).isPresent());
    }

    @Test
    void aBatchJobIsSubmittedWaitedForAndItsShardsRecordedBeforeTheyLand() throws Exception {
        LaunchPlan plan = plan(3);
        List<String> progress = new CopyOnWriteArrayList<>();
        List<LaunchedShard> spawned = new CopyOnWriteArrayList<>();
        ShellDialect dialect = new ShellDialect(plan, true, Optional.empty());

        List<LaunchedShard> up = BatchStart.run(plan, context(progress, spawned, Duration.ofSeconds(60)), dialect);

        String job = Long.toString(jobs.get(0));
        assertThat(up).allSatisfy(ls -> assertThat(ls.handle()).containsEntry(BatchStart.JOB, job)
                .containsEntry(BatchStart.MODE, BatchStart.MODE_BATCH));
        assertThat(spawned.subList(0, 3)).as("recorded at submission, before they land")
                .allSatisfy(ls -> assertThat(ls.handle()).containsEntry(BatchStart.JOB, job).doesNotContainKey("shell"));
        assertThat(progress.subList(0, 2)).containsExactly("submitted batch job " + job + " (" + plan.dir()
                .resolve("job.sh") + ")", "batch job " + job + " running on localhost");
        assertThat(dialect.calls).doesNotContain("cancel " + job);
        dialect.cancelJob(job); // the test's own stop
    }

    @Test
    void aBatchJobThatEndsWhileItsShardsStartIsReportedAndCancelled() {
        LaunchPlan plan = plan(1);
        // The shard's wrapper never reports: its job ends (killed here once it runs) and the check between rounds
        // says so.
        ShellDialect dialect = new ShellDialect(plan, true, Optional.empty(), report -> {
            jobs.forEach(BatchStartTest::killGroup);
            return Optional.empty();
        });
        assertThatThrownBy(() -> BatchStart.run(plan, context(new ArrayList<>(), new ArrayList<>(),
                Duration.ofSeconds(60)), dialect))
                .isInstanceOf(ShardStartException.class).hasMessage("job " + jobs.get(0)
                        + " ended while its shards were starting");
        assertThat(dialect.calls).contains("check", "cancel " + jobs.get(0));
    }

    @Test
    void aShardThatReportsAnotherPortFailsNamingBoth() {
        LaunchPlan plan = plan(1);
        ShellDialect dialect = new ShellDialect(plan, false, Optional.empty(),
                report -> report.map(r -> new ShellReport(r.address(), r.port() + 7, r.node())));
        int port = plan.shards().get(0).port();
        assertThatThrownBy(() -> BatchStart.run(plan, context(new ArrayList<>(), new ArrayList<>(),
                Duration.ofSeconds(60)), dialect)).isInstanceOf(LaunchException.class)
                .hasMessageContaining("reported port " + (port + 7) + " instead of " + port);
    }
}
