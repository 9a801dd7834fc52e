package io.smartsim.launch.batch;

import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.Detached;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.cluster.Landing;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The restart of one dead shard by a batch scheduler ({@code --restart on-failure}), once for every scheduler: its
 * wrapper again, by the run command, on the node it ran on in the job it ran in, so it comes back on the same address
 * and port, in the same work directory with its config and cluster state file untouched (only its old report is
 * removed). The shard is recorded as soon as its run command exists, again once it reports, and returned once it
 * answers {@code PING} ({@link Landing}); a failure or an interrupt ends what the restart started, then is thrown.
 * Which dead shards can be restarted at all is the launcher's to check before.
 *
 * @param <R> the scheduler's wrapper report
 */
public final class BatchRestart<R extends BatchDialect.Report> {
    /** One scheduler's side of a restart, bound to the dead shard it restarts. */
    public interface Dialect<R extends BatchDialect.Report> {
        /** Where scheduler commands run and files are written. */
        CommandRunner runner();

        /** Where the wrapper of a shard writes its report. */
        default Path reportPath(ShardPlan s) {
            return BatchScripts.reportPath(s);
        }

        /** A shard's console (its wrapper's and its server's stdout and stderr). */
        default Path consoleLog(ShardPlan s) {
            return BatchScripts.consoleLog(s);
        }

        /** Starts the shard's wrapper again on its node ({@code srun --jobid --nodelist}, {@code ssh NODE}). */
        Detached spawn(ShardPlan s, Duration timeout);

        /** How the restart's run command, its report and its clean-up read in messages ("its new step was cancelled"). */
        BatchDialect.Words words();

        /** The shard to record once its run command exists, before it reports: what a stop from now on ends. */
        LaunchedShard early(ShardPlan s, Detached runCommand);

        /** The shard's report, once its wrapper has written it whole; a wrapper's own failure report throws. */
        Optional<R> readReport(ShardPlan s);

        /** The shard as recorded from its report; {@code early} is the record made when its run command started. */
        LaunchedShard landed(ShardPlan s, R report, LaunchedShard early);

        /** Ends what a failed restart started: the landed shard if it landed, and the run command. Best effort. */
        void cancel(Optional<LaunchedShard> landed, Detached runCommand) throws InterruptedException;
    }

    /**
     * A restart dialect's fields every scheduler has: the plan, the dead shard (its plan and recorded handle), where
     * commands run, its words and its report reader; and its records before and after the shard reports.
     */
    public abstract static class Base<R extends BatchDialect.Report> implements Dialect<R> {
        protected final LaunchPlan plan;
        protected final LaunchedShard dead;
        protected final ShardPlan shard;
        protected final CommandRunner runner;
        private final BatchDialect.Words words;
        private final Function<ShardPlan, Optional<R>> reports;

        /** @param reports reads a shard's report ({@link Dialect#readReport}), as the scheduler's start does */
        protected Base(LaunchPlan plan, LaunchedShard dead, CommandRunner runner, BatchDialect.Words words,
                       Function<ShardPlan, Optional<R>> reports) {
            this.plan = plan;
            this.dead = dead;
            this.shard = plan.shards().get(dead.index());
            this.runner = runner;
            this.words = words;
            this.reports = reports;
        }

        @Override
        public final Optional<R> readReport(ShardPlan s) {
            return reports.apply(s);
        }

        /** The shard's record once it reported: {@code early}'s handle with {@link #reported}, at its address. */
        @Override
        public final LaunchedShard landed(ShardPlan s, R report, LaunchedShard early) {
            Map<String, String> h = new java.util.LinkedHashMap<>(early.handle());
            h.putAll(reported(report));
            return new LaunchedShard(shard.index(), shard.name(), report.address(), report.port(), early.pid(),
                    early.processStart(), h);
        }

        /** The handle keys a report adds to the early record (the node it ran on, its step or server pid). */
        protected abstract Map<String, String> reported(R report);

        @Override
        public final CommandRunner runner() {
            return runner;
        }

        @Override
        public final BatchDialect.Words words() {
            return words;
        }

        /** The shard's record before it reports: {@code handle}, at the dead shard's address, with its carrier's pid. */
        protected final LaunchedShard early(Map<String, String> handle, Optional<Long> pid) {
            Optional<java.time.Instant> started = pid.flatMap(ProcessHandle::of).flatMap(h -> h.info().startInstant());
            return new LaunchedShard(shard.index(), shard.name(), dead.host(), dead.port(), pid, started, handle);
        }
    }

    private final LaunchPlan plan;
    private final LaunchContext ctx;
    private final Dialect<R> dialect;
    private final CommandRunner runner;
    private final ShardPlan s;
    /** The restarted shard once it has reported (before it answers PING): what a failure ends. */
    private LaunchedShard landed;

    private BatchRestart(LaunchPlan plan, int index, LaunchContext ctx, Dialect<R> dialect) {
        this.plan = plan;
        this.ctx = ctx;
        this.dialect = dialect;
        this.runner = dialect.runner();
        this.s = plan.shards().get(index);
    }

    /** Restarts shard {@code index} of {@code plan} and returns it once it answers PING; see the class comment. */
    public static <R extends BatchDialect.Report> LaunchedShard run(LaunchPlan plan, int index, LaunchContext ctx,
                                                                 Dialect<R> dialect) {
        return new BatchRestart<>(plan, index, ctx, dialect).go();
    }

    private LaunchedShard go() {
        runner.deleteFiles(List.of(dialect.reportPath(s)), cap());
        Detached runCommand = dialect.spawn(s, cap());
        LaunchedShard early = dialect.early(s, runCommand);
        ctx.spawned().accept(early);
        try {
            BatchDialect.Words words = dialect.words();
            return Landing.await(plan, ctx, words.reporter(), "its " + words.runCommand(), new Landing.Shard() {
                @Override
                public Optional<LaunchedShard> land() {
                    return dialect.readReport(s).map(r -> BatchRestart.this.land(r, early));
                }

                @Override
                public Optional<String> carrierExit() {
                    return runCommand.exit();
                }
            }, this::failure);
        } catch (RuntimeException e) {
            cancel(runCommand);
            throw e;
        } catch (InterruptedException e) {
            cancel(runCommand);
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted while restarting shard " + s.index() + " of '" + plan.id()
                    + "'; " + dialect.words().undone(), e);
        }
    }

    private LaunchedShard land(R r, LaunchedShard early) {
        if (r.port() != s.port()) {
            throw failure("reported port " + r.port() + " instead of " + s.port());
        }
        landed = dialect.landed(s, r, early);
        ctx.spawned().accept(landed);
        runner.expose(landed.host(), landed.port());
        return landed;
    }

    private void cancel(Detached runCommand) {
        try {
            dialect.cancel(Optional.ofNullable(landed), runCommand);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // best effort: the restart's own failure is what the watchdog reports
        }
    }

    private ShardStartException failure(String how) {
        return new ShardStartException("restarted shard " + s.index() + " (" + s.name() + ") of '" + plan.id()
                + "' on port " + s.port() + ": " + how + "; " + dialect.words().undone() + ".\n"
                + runner.logTail(s.logPath(), 8) + "\n" + runner.logTail(dialect.consoleLog(s), 8));
    }

    private Duration cap() {
        return Duration.ofMillis(Math.max(1000, ctx.deadline().capMillis(BatchStart.COMMAND_TIMEOUT)));
    }
}
