package io.smartsim.launch.batch;

import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.error.ReadinessTimeoutException;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.Detached;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.spi.TlsFiles;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.cluster.ReadinessWait;
import io.smartsim.launch.util.Backoff;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The start of one orchestrator by a batch scheduler, once for every scheduler: shards run by a wrapper that reports
 * where it landed, either each started by a run command inside an existing allocation ({@code srun}, {@code pbsdsh},
 * {@code mpiexec}, {@code ssh}) or all by a batch job of their own. In order: write the configs and scripts where the
 * scheduler commands run (stale reports and node maps removed, the last run's logs kept as {@code NAME.1}); then
 * either submit the batch job and wait until it runs, or start each shard's run command in the allocation; then wait
 * for every wrapper's report and every shard's {@code PING} ({@link ReadinessWait}), checking the job between rounds.
 * Under {@code --ai} through the Redis module, each node's model server ({@link BatchModelServers}) is started first
 * (by the launcher in an allocation, by the batch script in a job of its own) and awaited until it is ready; each
 * shard records the model server of its node, and a failed start ends the model servers too.
 * A failure anywhere, an interrupt or an {@link Error} cancels exactly what this launch started, then is thrown.
 * What differs between schedulers is a {@link Dialect}.
 *
 * @param <R> the scheduler's wrapper report
 */
public final class BatchStart<R extends BatchStart.Report> {
    /** Handle keys every batch scheduler records for each shard. */
    public static final String JOB = "jobId";
    public static final String NODE = "node";
    public static final String MODE = "mode";
    public static final String MODE_ALLOC = "alloc";
    public static final String MODE_BATCH = "batch";

    /** How long one scheduler command or file operation may take, capped by the launch's deadline. */
    public static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    /** How often the job is asked about while it waits to run, and while its shards start. */
    public static final Duration JOB_POLL = Duration.ofSeconds(1);

    /** Where a shard's wrapper says it landed; the rest of the report is the dialect's. */
    public interface Report {
        String address();

        int port();
    }

    /**
     * How a scheduler's launch reads in messages.
     *
     * @param runCommand what starts a shard's wrapper on its node ("srun", "mpiexec", "ssh")
     * @param reporter   who reports where a shard landed ("its step", "its node")
     * @param undone     what a failure did about what was started ("every step of this launch was cancelled")
     */
    public record Words(String runCommand, String reporter, String undone) {
    }

    /**
     * A batch job as its scheduler lists it, in the skeleton's words.
     *
     * @param running     it runs
     * @param waiting     queued, held or pending: it may still run
     * @param where       its nodes once it runs, as the scheduler writes them ({@code n[1-3]}, {@code n1/0+n2/0})
     * @param describe    its state for progress lines and messages ({@code PENDING (Resources)}, {@code queued})
     * @param neverRuns   why it can never run, where the scheduler says so: such a job is not waited for
     * @param waitingNote said after the timeout message of a job still waiting ({@code "; pending reason: X"})
     */
    public record JobState(boolean running, boolean waiting, String where, String describe,
                           Optional<String> neverRuns, String waitingNote) {
    }

    /**
     * Thrown by {@link Dialect#checkBatch} when one shard's part of the job has ended (its step): the start fails
     * as for any shard that cannot come up, with its logs.
     */
    public static final class ShardEnded extends RuntimeException {
        private final int index;

        public ShardEnded(int index, String how) {
            super(how);
            this.index = index;
        }

        public int index() {
            return index;
        }
    }

    /**
     * One scheduler's side of a launch: its names, scripts, commands and parsers, bound to the plan, its options and
     * the runner it was given (and whatever it detected for this launch, such as PBS's dialect and run command).
     */
    public interface Dialect<R extends Report> {
        /** Where scheduler commands run and files are written. */
        CommandRunner runner();

        /** Whether the shards run as a batch job of their own, rather than in an existing allocation. */
        boolean batch();

        /** How this launch's run command, its reports and its clean-up read in messages. */
        Words words();

        /** The word for a cancelled batch job in messages ("cancelled", "deleted (qdel)"). */
        default String cancelled() {
            return "cancelled";
        }

        // --- files

        /** Where the wrapper of a shard writes its report. */
        default Path reportPath(ShardPlan s) {
            return BatchScripts.reportPath(s);
        }

        /** A shard's console (its wrapper's and its server's stdout and stderr). */
        default Path consoleLog(ShardPlan s) {
            return BatchScripts.consoleLog(s);
        }

        /** The batch job's script. */
        Path batchScript();

        /** The batch job's own output. */
        Path batchOutput();

        /** Every script to write, by path: the shards' wrappers, the batch script, helpers. */
        Map<Path, String> scripts();

        /** Files of an earlier run to remove besides reports and node maps. */
        default List<Path> stale(ShardPlan s) {
            return List.of();
        }

        /** After the files are written (a lease file behind a login node). */
        default void written(Duration timeout) {
        }

        // --- a batch job of its own

        /** Submits the batch script; the job's id, or a {@link LaunchException} naming the command's answer. */
        String submit(Duration timeout);

        /** Handle keys of the shards of a submitted batch job, recorded before they land. */
        default Map<String, String> submittedHandle() {
            return Map.of();
        }

        /** The job as the scheduler lists it; empty once it has left the queue. */
        Optional<JobState> job(String jobId);

        /** The failure of a job that ended, or stopped running, {@code when} ("before its shards started"). */
        RuntimeException ended(String jobId, String when, Optional<JobState> job);

        /**
         * Between rounds of the shards' wait: throws when the job has ended ({@link #ended}), or {@link ShardEnded}
         * when a shard's part of it has.
         */
        void checkBatch(String jobId, List<Optional<LaunchedShard>> landed);

        /** Cancels the batch job and waits (bounded) until it is gone. */
        void cancelJob(String jobId) throws InterruptedException;

        // --- in an existing allocation

        /** The existing allocation's job id. */
        String allocation();

        /** Starts one shard's run command in the allocation (its wrapper, on its node). */
        Detached spawn(ShardPlan s, String jobId, Duration timeout);

        /**
         * Under {@code --ai} through the module: starts model server {@code m}'s run command in the allocation (its
         * wrapper, {@link BatchModelServers#wrapperPath}, on its node), its output going to its console. A dialect
         * that serves {@code --ai} through the module (its placement says so) must have it.
         */
        default Detached spawnModelServer(ModelServerPlan m, String jobId, Duration timeout) {
            throw new UnsupportedOperationException("the " + words().runCommand() + " dialect starts no model server");
        }

        /**
         * The dialect's own handle keys for the shards of a model server that reported {@code r} (a Slurm step id),
         * besides {@link BatchModelServers#handle}'s; {@code runCommand} is the local process that carries it, if any.
         */
        default Map<String, String> modelServerHandle(BatchModelServers.Report r, Optional<Detached> runCommand) {
            return Map.of();
        }

        /**
         * The shard to record before it reports, if the dialect can stop it from that record alone (were this process
         * to end now, core's abort hook stops it with this handle): asked twice, just before its run command is
         * spawned ({@code runCommand} empty) and the moment it exists. The first record matters when the run command
         * acts at once (an srun creates its step within milliseconds): a SIGKILL between the spawn and a record made
         * only afterwards would leave something no cleanup knows of.
         */
        default Optional<LaunchedShard> early(ShardPlan s, Optional<Detached> runCommand, String jobId) {
            return Optional.empty();
        }

        /** The progress line once every run command has started. */
        String started(int count, String jobId);

        /**
         * Ends what a failed launch started in the allocation: the shards that landed and the run commands (whose
         * processes run where scheduler commands run). Best effort.
         */
        void cancelInAllocation(String jobId, List<LaunchedShard> landed, List<Detached> runCommands)
                throws InterruptedException;

        // --- landing

        /** The shard's report, once its wrapper has written it whole; a wrapper's own failure report throws. */
        Optional<R> readReport(ShardPlan s);

        /** Why the shards reported so far (by index) cannot make one orchestrator, if they cannot. */
        default Optional<String> problem(Map<Integer, R> reports) {
            return Optional.empty();
        }

        /**
         * Adds the dialect's own keys to a landed shard's {@code handle}, which already holds where scheduler
         * commands ran, the job, mode and node. {@code runCommand} is the local process that carries it, if any.
         */
        void record(ShardPlan s, R report, Map<String, String> handle, Optional<Detached> runCommand);

        /**
         * Whether a landed shard's recorded pid is its run command's process on this machine (which lives as long as
         * its server, and which stop can end); otherwise it has none.
         */
        default boolean recordsRunCommand() {
            return false;
        }

        /** How the report's node is named in the handle. */
        String node(R report);

        /** How an up shard reads in the progress line ("10.0.0.2:6780 (node n2, step 34.0)"). */
        String upAs(LaunchedShard shard, String jobId);
    }

    /**
     * A dialect's fields every scheduler has: the plan, where its commands run, batch or not, its words, and its
     * batch script's and output's paths.
     */
    public abstract static class Base<R extends Report> implements Dialect<R> {
        protected final LaunchPlan plan;
        protected final CommandRunner runner;
        private final boolean batch;
        private final Words words;
        private final Path batchScript;
        private final Path batchOutput;

        protected Base(LaunchPlan plan, CommandRunner runner, boolean batch, Words words, Path batchScript,
                       Path batchOutput) {
            this.plan = plan;
            this.runner = runner;
            this.batch = batch;
            this.words = words;
            this.batchScript = batchScript;
            this.batchOutput = batchOutput;
        }

        @Override
        public final Path batchScript() {
            return batchScript;
        }

        @Override
        public final Path batchOutput() {
            return batchOutput;
        }

        @Override
        public final CommandRunner runner() {
            return runner;
        }

        @Override
        public final boolean batch() {
            return batch;
        }

        @Override
        public final Words words() {
            return words;
        }
    }

    private final LaunchPlan plan;
    private final LaunchContext ctx;
    private final Dialect<R> dialect;
    private final CommandRunner runner;
    private final List<Detached> runCommands = new ArrayList<>();
    /** The model servers' run commands this launch started in an allocation, by model server index. */
    private final List<Detached> modelServerCommands = new ArrayList<>();
    /** Handle entries of each model server's shards once it is ready, by model server index. */
    private final Map<Integer, Map<String, String>> modelServerEntries = new LinkedHashMap<>();
    private final LaunchedShard[] landed;
    private final Map<Integer, R> reports = new LinkedHashMap<>();
    private String jobId;
    private boolean submitted;

    private BatchStart(LaunchPlan plan, LaunchContext ctx, Dialect<R> dialect) {
        this.plan = plan;
        this.ctx = ctx;
        this.dialect = dialect;
        this.runner = dialect.runner();
        this.landed = new LaunchedShard[plan.shards().size()];
    }

    /**
     * Starts {@code plan}'s shards and returns them once every one answers {@code PING}; on any failure cancels what
     * it started and throws (an interrupt as a {@link LaunchException}, the thread's flag set again).
     */
    public static <R extends Report> List<LaunchedShard> run(LaunchPlan plan, LaunchContext ctx, Dialect<R> dialect) {
        BatchStart<R> start = new BatchStart<>(plan, ctx, dialect);
        try {
            return start.go();
        } catch (RuntimeException | Error e) {
            start.cancel(); // an Error too: a submitted job must not outlive a crashed launch
            throw e;
        } catch (InterruptedException e) {
            start.cancel();
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted while starting '" + plan.id() + "'; " + dialect.words().undone(), e);
        }
    }

    private List<LaunchedShard> go() throws InterruptedException {
        writeFiles();
        if (dialect.batch()) {
            submit();
            awaitRunning();
            awaitModelServers(); // started by the batch script, which starts the shards once they are ready
        } else {
            jobId = dialect.allocation();
            for (ModelServerPlan m : plan.modelServers()) {
                modelServerCommands.add(dialect.spawnModelServer(m, jobId, cap()));
            }
            awaitModelServers();
            for (ShardPlan s : plan.shards()) {
                dialect.early(s, Optional.empty(), jobId).map(this::withModelServer).ifPresent(ctx.spawned());
                Detached p = dialect.spawn(s, jobId, cap());
                runCommands.add(p);
                dialect.early(s, Optional.of(p), jobId).map(this::withModelServer).ifPresent(ctx.spawned());
            }
            ctx.progress().accept(dialect.started(runCommands.size(), jobId));
        }
        awaitShards();
        return List.of(landed);
    }

    /**
     * Under {@code --ai} through the module: waits until every model server has reported and is ready (its run command
     * in the allocation still running, or the batch job), then keeps the handle entries of each one's shards.
     */
    private void awaitModelServers() throws InterruptedException {
        if (plan.modelServers().isEmpty()) {
            return;
        }
        Map<Integer, BatchModelServers.Report> ready = BatchModelServers.await(plan, runner, plan.modelServers(),
                ctx.deadline(), m -> {
                    if (!dialect.batch()) {
                        return modelServerCommands.get(m.index()).exit()
                                .map(exit -> "its " + dialect.words().runCommand() + " " + exit);
                    }
                    Optional<JobState> job = dialect.job(jobId);
                    if (job.isEmpty() || !job.get().running()) {
                        // the job's output says which model server its script gave up on
                        throw dialect.ended(jobId, "before its --ai model servers were ready", job);
                    }
                    return Optional.empty();
                }, dialect.words().undone());
        for (ModelServerPlan m : plan.modelServers()) {
            BatchModelServers.Report r = ready.get(m.index());
            Optional<Detached> runCommand = dialect.batch() ? Optional.empty()
                    : Optional.of(modelServerCommands.get(m.index()));
            modelServerEntries.put(m.index(), BatchModelServers.handle(m, r, dialect.modelServerHandle(r,
                    runCommand)));
            ctx.progress().accept("--ai model server " + m.index() + " ready on node " + r.node() + " ("
                    + m.socket() + ")");
        }
    }

    /** A shard's record with its model server's entries, once that is ready (none without --ai). */
    private LaunchedShard withModelServer(LaunchedShard ls) {
        return plan.modelServerOf(ls.index()).map(m -> modelServerEntries.get(m.index())).map(ls::withHandleEntries)
                .orElse(ls);
    }

    /** Configs and scripts, where the scheduler commands run; stale reports and node maps removed, logs kept as .1. */
    private void writeFiles() {
        List<Path> stale = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        for (ShardPlan s : plan.shards()) {
            runner.writeFile(s.configPath(), s.config(), cap());
            // A node map from an earlier run would make the shard rejoin its old cluster.
            stale.addAll(List.of(s.workDir().resolve("nodes-" + s.port() + ".conf"), dialect.reportPath(s)));
            stale.addAll(dialect.stale(s));
            // The last run's log and console (why it ended, after a crash) stay beside the new ones as NAME.1.
            logs.addAll(List.of(s.logPath(), dialect.consoleLog(s)));
        }
        if (dialect.batch()) {
            logs.add(dialect.batchOutput());
        }
        for (ModelServerPlan m : plan.modelServers()) {
            stale.add(BatchModelServers.reportPath(m));
            logs.add(m.console()); // new at each start, so its ready line is this run's
        }
        runner.deleteFiles(stale, cap());
        runner.keepPrevious(logs, cap());
        // --tls: made on this machine in the orchestrator dir; a login node (--remote) gets a copy (0600).
        plan.tls().filter(t -> TlsFiles.remote(runner)).ifPresent(t -> TlsFiles.copy(t, runner, cap()));
        for (Map.Entry<Path, String> script : dialect.scripts().entrySet()) {
            runner.writeFile(script.getKey(), script.getValue(), cap());
        }
        dialect.written(cap());
    }

    private void submit() {
        jobId = dialect.submit(cap());
        submitted = true;
        ctx.progress().accept("submitted batch job " + jobId + " (" + dialect.batchScript() + ")");
        for (ShardPlan s : plan.shards()) {
            // Known before it lands, so a crash from here on still leads to the job being cancelled.
            Map<String, String> handle = new LinkedHashMap<>(runner.recorded());
            handle.put(JOB, jobId);
            handle.put(MODE, MODE_BATCH);
            handle.putAll(dialect.submittedHandle());
            ctx.spawned().accept(new LaunchedShard(s.index(), s.name(), s.host(), s.port(), Optional.empty(),
                    Optional.empty(), handle));
        }
    }

    private void awaitRunning() throws InterruptedException {
        Backoff backoff = new Backoff(ctx.deadline(), Duration.ofMillis(100), JOB_POLL);
        String reported = null;
        while (true) {
            Optional<JobState> job = dialect.job(jobId);
            if (job.isEmpty() || !(job.get().running() || job.get().waiting())) {
                throw dialect.ended(jobId, "before its shards started", job);
            }
            if (job.get().running()) {
                ctx.progress().accept("batch job " + jobId + " running on " + job.get().where());
                return;
            }
            Optional<String> never = job.get().neverRuns();
            if (never.isPresent()) {
                throw new LaunchException("batch job " + jobId + " of '" + plan.id() + "' can never run; " + never.get());
            }
            String now = job.get().describe();
            if (!now.equals(reported)) {
                ctx.progress().accept("batch job " + jobId + " " + now);
                reported = now;
            }
            if (!backoff.pause()) {
                throw new ReadinessTimeoutException("batch job " + jobId + " of '" + plan.id() + "' was still " + now
                        + " after " + plan.spec().startupTimeout().toSeconds() + " s and was " + dialect.cancelled()
                        + job.get().waitingNote());
            }
        }
    }

    private void awaitShards() throws InterruptedException {
        List<ReadinessWait.Shard> shards = new ArrayList<>();
        for (ShardPlan s : plan.shards()) {
            shards.add(new ReadinessWait.Shard() {
                @Override
                public Optional<LaunchedShard> landed() {
                    return dialect.readReport(s).map(r -> land(s, r));
                }

                @Override
                public Optional<String> ended() {
                    return runCommands.isEmpty() ? Optional.empty() : runCommands.get(s.index()).exit()
                            .map(exit -> "its " + dialect.words().runCommand() + " " + exit);
                }
            });
        }
        ReadinessWait.of(plan, ctx, shards)
                .every(JOB_POLL, () -> {
                    if (dialect.batch()) {
                        List<Optional<LaunchedShard>> now = new ArrayList<>();
                        for (LaunchedShard ls : landed) {
                            now.add(Optional.ofNullable(ls));
                        }
                        try {
                            dialect.checkBatch(jobId, now);
                        } catch (ShardEnded e) {
                            throw failure(plan.shards().get(e.index()), e.getMessage());
                        }
                    }
                })
                .upAs(ls -> dialect.upAs(ls, jobId))
                .failure((i, how) -> failure(plan.shards().get(i), how))
                .timeout(late -> ReadinessWait.notUp(plan, plan.shards().size(), late, "were not up",
                        dialect.words().undone(),
                        (i, ls) -> "shard " + i + ls.map(l -> " on " + l.address() + " (no PONG)")
                                .orElse(" (no report from " + dialect.words().reporter() + " yet)") + "\n"
                                + runner.logTail(plan.shards().get(i).logPath(), 5) + "\n"
                                + runner.logTail(dialect.consoleLog(plan.shards().get(i)), 5)))
                .await();
    }

    private LaunchedShard land(ShardPlan s, R r) {
        if (r.port() != s.port()) {
            throw failure(s, "reported port " + r.port() + " instead of " + s.port());
        }
        reports.put(s.index(), r);
        dialect.problem(reports).ifPresent(problem -> {
            throw new ShardStartException(problem + ". Launch of '" + plan.id() + "': " + dialect.words().undone() + ".");
        });
        // Where the scheduler commands ran: status and stop from the manifest reopen it.
        Map<String, String> handle = new LinkedHashMap<>(runner.recorded());
        handle.put(JOB, jobId);
        handle.put(NODE, dialect.node(r));
        handle.put(MODE, dialect.batch() ? MODE_BATCH : MODE_ALLOC);
        plan.modelServerOf(s.index()).map(m -> modelServerEntries.get(m.index())).ifPresent(handle::putAll);
        Optional<Detached> runCommand = runCommands.isEmpty() ? Optional.empty()
                : Optional.of(runCommands.get(s.index()));
        dialect.record(s, r, handle, runCommand);
        // It reported, so it runs: wait the moment its starting thread may still need to hand the process over.
        Optional<Process> client = Optional.empty();
        if (dialect.recordsRunCommand() && runCommand.isPresent()) {
            try {
                client = runCommand.get().local(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the wait around this ends the start
            }
        }
        LaunchedShard ls = new LaunchedShard(s.index(), s.name(), r.address(), r.port(), client.map(Process::pid),
                client.flatMap(p -> p.info().startInstant()), handle);
        landed[s.index()] = ls;
        ctx.spawned().accept(ls);
        runner.expose(ls.host(), ls.port()); // PING, cluster forming and health reach it through the transport
        return ls;
    }

    private ShardStartException failure(ShardPlan s, String how) {
        return new ShardStartException("shard " + s.index() + " (" + s.name() + ") of '" + plan.id() + "' on port "
                + s.port() + ": " + how + "; " + dialect.words().undone() + ".\n" + runner.logTail(s.logPath(), 8) + "\n"
                + runner.logTail(dialect.consoleLog(s), 8));
    }

    private Duration cap() {
        return Duration.ofMillis(Math.max(1000, ctx.deadline().capMillis(COMMAND_TIMEOUT)));
    }

    /** Cancels whatever this launch started: the batch job, or the shards and run commands in the allocation. */
    private void cancel() {
        try {
            if (submitted) {
                dialect.cancelJob(jobId);
                return;
            }
            if (jobId == null) {
                return;
            }
            List<LaunchedShard> started = new ArrayList<>();
            for (LaunchedShard ls : landed) {
                if (ls != null) {
                    started.add(ls);
                }
            }
            // The model servers after the shards that load the module.
            List<Detached> all = new ArrayList<>(runCommands);
            all.addAll(modelServerCommands);
            dialect.cancelInAllocation(jobId, started, all);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // Best effort: the launch's own failure is what the caller needs to see.
        }
    }
}
