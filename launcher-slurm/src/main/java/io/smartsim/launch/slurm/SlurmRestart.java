package io.smartsim.launch.slurm;

import io.smartsim.launch.batch.BatchModelServers;
import io.smartsim.launch.batch.BatchScripts;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.batch.BatchRestart;
import io.smartsim.launch.batch.BatchDialect;
import io.smartsim.launch.batch.BatchStart;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.Detached;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.slurm.SlurmParsers.ShardReport;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Restarts one dead shard ({@code --restart on-failure}): its wrapper again as a new step of the job it ran in,
 * pinned to the node it ran on ({@code srun --jobid --nodelist --overlap}), so it comes back on the same address and
 * port, in the same work directory with its config and cluster state file untouched (only its old report is
 * removed). For shards started in an allocation ({@code --alloc}, {@code SLURM_JOB_ID}); {@code --batch} with
 * {@code --restart} is refused at plan time, since a batch job ends with its script's own steps.
 */
final class SlurmRestart extends BatchRestart.Base<ShardReport> {
    private final LaunchContext ctx;
    private final String job;
    private final String node;

    SlurmRestart(LaunchPlan plan, LaunchedShard dead, LaunchContext ctx, CommandRunner runner) {
        super(plan, dead, runner, new BatchDialect.Words("srun", "its step", "its new step was cancelled"),
                s -> SlurmLauncher.readReport(runner, s));
        this.ctx = ctx;
        this.job = dead.handle().get(SlurmLauncher.JOB);
        this.node = dead.handle().get(SlurmLauncher.NODE);
    }

    LaunchedShard go() {
        if (job == null || node == null || node.startsWith("batch-node-")) {
            throw new ShardStartException("cannot restart shard " + shard.index() + " (" + shard.name() + ") of '"
                    + plan.id() + "': it never reported the node it ran on; stop the orchestrator and start it again");
        }
        return BatchRestart.run(plan, dead.index(), ctx, this);
    }

    @Override
    public Detached spawn(ShardPlan s, Duration timeout) {
        return runner.spawn(SlurmCommands.srunShard(Optional.of(job), node, s.name(), s.workDir(),
                SlurmScripts.wrapperPath(s), 1), s.workDir(), BatchScripts.consoleLog(s), timeout);
    }

    @Override
    public LaunchedShard early(ShardPlan s, Detached srun) {
        Map<String, String> handle = new LinkedHashMap<>(runner.recorded());
        handle.put(SlurmLauncher.JOB, job);
        handle.put(SlurmLauncher.NODE, node);
        // A batch shard stays one: stop must still cancel its job (whose script outlives its own steps).
        handle.put(SlurmLauncher.MODE, dead.handle().getOrDefault(SlurmLauncher.MODE, SlurmLauncher.MODE_ALLOC));
        if (dead.handle().containsKey(SlurmLauncher.JOB_OUTLIVES_STEPS)) {
            handle.put(SlurmLauncher.JOB_OUTLIVES_STEPS, dead.handle().get(SlurmLauncher.JOB_OUTLIVES_STEPS));
        }
        // --ai: it loads the module with its node's model server, which stays recorded (the watchdog revives it).
        handle.putAll(BatchModelServers.entries(dead));
        srun.pid().ifPresent(pid -> {
            handle.put(SlurmLauncher.SRUN_PID, Long.toString(pid));
            SlurmLauncher.SRUNS.put(SlurmLauncher.srunKey(runner, pid), srun);
        });
        return early(handle, Optional.empty());
    }

    @Override
    protected Map<String, String> reported(ShardReport r) {
        return Map.of(SlurmLauncher.STEP, r.stepId(), SlurmLauncher.NODE, r.node());
    }

    @Override
    public void cancel(Optional<LaunchedShard> landed, Detached srun) throws InterruptedException {
        if (landed.isPresent()) {
            runner.run(SlurmCommands.scancel(List.of(landed.get().handle().get(SlurmLauncher.JOB) + "."
                    + landed.get().handle().get(SlurmLauncher.STEP))), BatchStart.COMMAND_TIMEOUT);
        }
        srun.terminate(Duration.ofSeconds(5));
    }
}
