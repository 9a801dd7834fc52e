package io.smartsim.launch.pbs;

import io.smartsim.launch.LaunchException;
import io.smartsim.launch.ShardStartException;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.Detached;
import io.smartsim.launch.pbs.PbsParsers.ShardReport;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.plan.ShardPlan;
import io.smartsim.launch.security.TlsFiles;
import io.smartsim.launch.spi.Landing;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Restarts one dead shard ({@code --restart on-failure}): its wrapper again, over ssh, on the node of the existing
 * job it ran on, the way {@code start} runs it there, so it comes back on the same address and port, in the same work
 * directory with its config and cluster state file untouched (only its old report is removed). Only shards started in
 * an existing job with the ssh run command: plan time refuses the rest ({@code --batch}, pbsdsh, mpiexec) by name.
 */
final class PbsRestart {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private final LaunchPlan plan;
    private final LaunchedShard dead;
    private final LaunchContext ctx;
    private final CommandRunner runner;
    private final ShardPlan s;
    /** The restarted shard once its wrapper has reported (before it answers PING): what a failure stops. */
    private LaunchedShard landed;

    PbsRestart(LaunchPlan plan, LaunchedShard dead, LaunchContext ctx, CommandRunner runner) {
        this.plan = plan;
        this.dead = dead;
        this.ctx = ctx;
        this.runner = runner;
        this.s = plan.shards().get(dead.index());
    }

    LaunchedShard go() {
        Map<String, String> was = dead.handle();
        String node = was.get(PbsLauncher.NODE);
        if (node == null || !PbsLauncher.MODE_ALLOC.equals(was.get(PbsLauncher.MODE))
                || !RunCommand.SSH.binary().equals(was.get(PbsLauncher.RUN))) {
            throw new ShardStartException("cannot restart shard " + s.index() + " (" + s.name() + ") of '" + plan.id()
                    + "': only shards started over ssh in an existing job can be restarted (this one: mode "
                    + was.get(PbsLauncher.MODE) + ", run command " + was.get(PbsLauncher.RUN) + ", node " + node
                    + "); stop the orchestrator and start it again");
        }
        Optional<Path> sshConfig = Optional.ofNullable(was.get("sshConfig")).map(Path::of);
        runner.deleteFiles(List.of(PbsScripts.reportPath(s)), cap());
        Detached client = runner.spawn(PbsCommands.runShard(RunCommand.SSH, node, "", PbsScripts.wrapperPath(s),
                sshConfig), s.workDir(), PbsScripts.consoleLog(s), cap());
        Map<String, String> handle = new LinkedHashMap<>(runner.recorded());
        for (String key : List.of(PbsLauncher.JOB, PbsLauncher.NODE, PbsLauncher.MODE, PbsLauncher.RUN,
                PbsLauncher.DIALECT, "sshConfig")) {
            if (was.containsKey(key)) {
                handle.put(key, was.get(key));
            }
        }
        TlsFiles.record(handle, plan.tls());
        // The ssh client on this machine (started on a thread of its own: pid() waits for it): it lives as long as the
        // server, which is how the next probe tells this shard is gone. Empty through a login node.
        Optional<Long> pid = client.pid();
        Optional<java.time.Instant> started = pid.flatMap(ProcessHandle::of).flatMap(h -> h.info().startInstant());
        // Known before it lands: a stop from here on ends the ssh client at least.
        ctx.spawned().accept(new LaunchedShard(s.index(), s.name(), dead.host(), dead.port(), pid, started, handle));
        try {
            return Landing.await(plan, ctx, "its wrapper", "its ssh", new Landing.Shard() {
                @Override
                public Optional<LaunchedShard> land() {
                    return PbsLauncher.readReport(runner, s).map(r -> PbsRestart.this.land(r, handle, pid, started));
                }

                @Override
                public Optional<String> carrierExit() {
                    return client.exit();
                }
            }, this::failure);
        } catch (RuntimeException e) {
            cancel(client, landed);
            throw e;
        } catch (InterruptedException e) {
            cancel(client, landed);
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted while restarting shard " + s.index() + " of '" + plan.id()
                    + "'; what it started was stopped", e);
        }
    }

    private LaunchedShard land(ShardReport r, Map<String, String> handle, Optional<Long> pid,
                               Optional<java.time.Instant> started) {
        if (r.port() != s.port()) {
            throw failure("reported port " + r.port() + " instead of " + s.port());
        }
        Map<String, String> h = new LinkedHashMap<>(handle);
        h.put(PbsLauncher.NODE, r.node());
        r.pid().ifPresent(p -> h.put(PbsLauncher.NODE_PID, Long.toString(p)));
        landed = new LaunchedShard(s.index(), s.name(), r.address(), r.port(), pid, started, h);
        ctx.spawned().accept(landed);
        runner.expose(r.address(), r.port());
        return landed;
    }

    private void cancel(Detached client, LaunchedShard landed) {
        try {
            if (landed != null) {
                PbsLauncher.killOnNodes(runner, List.of(landed));
            }
            client.terminate(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // best effort: the restart's own failure is what the watchdog reports
        }
    }

    private ShardStartException failure(String how) {
        return new ShardStartException("restarted shard " + s.index() + " (" + s.name() + ") of '" + plan.id()
                + "' on port " + s.port() + ": " + how + "; what it started was stopped.\n"
                + runner.logTail(s.logPath(), 8) + "\n" + runner.logTail(PbsScripts.consoleLog(s), 8));
    }

    private Duration cap() {
        return Duration.ofMillis(Math.max(1000, ctx.deadline().capMillis(COMMAND_TIMEOUT)));
    }
}
