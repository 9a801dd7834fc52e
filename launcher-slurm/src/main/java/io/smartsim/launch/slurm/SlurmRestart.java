package io.smartsim.launch.slurm;

import io.smartsim.launch.LaunchException;
import io.smartsim.launch.ShardStartException;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.Detached;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.plan.ShardPlan;
import io.smartsim.launch.slurm.SlurmParsers.ShardReport;
import io.smartsim.launch.spi.Landing;
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
final class SlurmRestart {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private final LaunchPlan plan;
    private final LaunchedShard dead;
    private final LaunchContext ctx;
    private final CommandRunner runner;
    private final ShardPlan s;
    /** The restarted shard once its step has reported (before it answers PING): what a failure cancels. */
    private LaunchedShard landed;

    SlurmRestart(LaunchPlan plan, LaunchedShard dead, LaunchContext ctx, CommandRunner runner) {
        this.plan = plan;
        this.dead = dead;
        this.ctx = ctx;
        this.runner = runner;
        this.s = plan.shards().get(dead.index());
    }

    LaunchedShard go() {
        String job = dead.handle().get(SlurmLauncher.JOB);
        String node = dead.handle().get(SlurmLauncher.NODE);
        if (job == null || node == null || node.startsWith("batch-node-")) {
            throw new ShardStartException("cannot restart shard " + s.index() + " (" + s.name() + ") of '" + plan.id()
                    + "': it never reported the node it ran on; stop the orchestrator and start it again");
        }
        runner.deleteFiles(List.of(SlurmScripts.reportPath(s)), cap());
        Detached srun = runner.spawn(SlurmCommands.srunShard(Optional.of(job), node, s.name(), s.workDir(),
                SlurmScripts.wrapperPath(s), 1), s.workDir(), SlurmScripts.consoleLog(s), cap());
        Map<String, String> handle = new LinkedHashMap<>(runner.recorded());
        handle.put(SlurmLauncher.JOB, job);
        handle.put(SlurmLauncher.NODE, node);
        // A batch shard stays one: stop must still cancel its job (whose script outlives its own steps).
        handle.put(SlurmLauncher.MODE, dead.handle().getOrDefault(SlurmLauncher.MODE, SlurmLauncher.MODE_ALLOC));
        if (dead.handle().containsKey(SlurmLauncher.JOB_OUTLIVES_STEPS)) {
            handle.put(SlurmLauncher.JOB_OUTLIVES_STEPS, dead.handle().get(SlurmLauncher.JOB_OUTLIVES_STEPS));
        }
        srun.pid().ifPresent(pid -> {
            handle.put(SlurmLauncher.SRUN_PID, Long.toString(pid));
            SlurmLauncher.SRUNS.put(SlurmLauncher.srunKey(runner, pid), srun);
        });
        ctx.spawned().accept(new LaunchedShard(s.index(), s.name(), dead.host(), dead.port(), Optional.empty(),
                Optional.empty(), handle));
        try {
            return Landing.await(plan, ctx, "its step", "its srun", new Landing.Shard() {
                @Override
                public Optional<LaunchedShard> land() {
                    return SlurmLauncher.readReport(runner, s).map(r -> SlurmRestart.this.land(r, handle));
                }

                @Override
                public Optional<String> carrierExit() {
                    return srun.exit();
                }
            }, this::failure);
        } catch (RuntimeException e) {
            cancel(srun, landed);
            throw e;
        } catch (InterruptedException e) {
            cancel(srun, landed);
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted while restarting shard " + s.index() + " of '" + plan.id()
                    + "'; its new step was cancelled", e);
        }
    }

    private LaunchedShard land(ShardReport r, Map<String, String> handle) {
        if (r.port() != s.port()) {
            throw failure("reported port " + r.port() + " instead of " + s.port());
        }
        Map<String, String> h = new LinkedHashMap<>(handle);
        h.put(SlurmLauncher.STEP, r.stepId());
        h.put(SlurmLauncher.NODE, r.node());
        landed = new LaunchedShard(s.index(), s.name(), r.address(), r.port(), Optional.empty(),
                Optional.empty(), h);
        ctx.spawned().accept(landed);
        runner.expose(r.address(), r.port());
        return landed;
    }

    private void cancel(Detached srun, LaunchedShard landed) {
        try {
            if (landed != null) {
                runner.run(SlurmCommands.scancel(List.of(landed.handle().get(SlurmLauncher.JOB) + "."
                        + landed.handle().get(SlurmLauncher.STEP))), COMMAND_TIMEOUT);
            }
            srun.terminate(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // best effort: the restart's own failure is what the watchdog reports
        }
    }

    private ShardStartException failure(String how) {
        return new ShardStartException("restarted shard " + s.index() + " (" + s.name() + ") of '" + plan.id()
                + "' on port " + s.port() + ": " + how + "; its new step was cancelled.\n"
                + runner.logTail(s.logPath(), 8) + "\n" + runner.logTail(SlurmScripts.consoleLog(s), 8));
    }

    private Duration cap() {
        return Duration.ofMillis(Math.max(1000, ctx.deadline().capMillis(COMMAND_TIMEOUT)));
    }
}
