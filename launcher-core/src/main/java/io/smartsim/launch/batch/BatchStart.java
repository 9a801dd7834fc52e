package io.smartsim.launch.batch;

import io.smartsim.launch.batch.BatchDialect.JobState;
import io.smartsim.launch.batch.BatchDialect.Report;
import io.smartsim.launch.batch.BatchDialect.ShardEnded;
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
 * What differs between schedulers is a {@link BatchDialect}.
 *
 * @param <R> the scheduler's wrapper report
 */
public final class BatchStart<R extends BatchDialect.Report> {
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

    private final LaunchPlan plan;
    private final LaunchContext ctx;
    private final BatchDialect<R> dialect;
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

    private BatchStart(LaunchPlan plan, LaunchContext ctx, BatchDialect<R> dialect) {
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
    public static <R extends Report> List<LaunchedShard> run(LaunchPlan plan, LaunchContext ctx, BatchDialect<R> dialect) {
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
                Map<String, String> early = dialect.earlyModelServer(m, jobId);
                if (!early.isEmpty()) {
                    for (int i : m.shards()) {
                        dialect.early(plan.shards().get(i), Optional.empty(), jobId)
                                .map(ls -> ls.withHandleEntries(early)).ifPresent(ctx.spawned());
                    }
                }
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
