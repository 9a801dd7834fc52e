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
 * One scheduler's side of a launch: its names, scripts, commands and parsers, bound to the plan, its options and
 * the runner it was given (and whatever it detected for this launch, such as PBS's dialect and run command).
 */
public interface BatchDialect<R extends BatchDialect.Report> {
    /** Where a shard's wrapper says it landed; the rest of the report is the dialect's. */
    interface Report {
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
    record Words(String runCommand, String reporter, String undone) {
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
    record JobState(boolean running, boolean waiting, String where, String describe,
                           Optional<String> neverRuns, String waitingNote) {
    }

    /**
     * Thrown by {@link Dialect#checkBatch} when one shard's part of the job has ended (its step): the start fails
     * as for any shard that cannot come up, with its logs.
     */
    final class ShardEnded extends RuntimeException {
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
     * A dialect's fields every scheduler has: the plan, where its commands run, batch or not, its words, and its
     * batch script's and output's paths.
     */
    abstract class Base<R extends Report> implements BatchDialect<R> {
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
         * Under {@code --ai} in an allocation: handle entries from which a stop finds model server {@code m} before it
         * has reported (its task's name, its run command's work directory), recorded for its shards just before its
         * run command is spawned. Without them a launch SIGKILLed while its model servers start would leave them
         * running with nothing recording them (an srun creates its step at once). Empty: the dialect cannot.
         */
        default Map<String, String> earlyModelServer(ModelServerPlan m, String jobId) {
            return Map.of();
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
