package io.smartsim.launch.pbs;

import io.smartsim.launch.batch.BatchModelServers;
import io.smartsim.launch.batch.BatchScripts;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.batch.BatchRestart;
import io.smartsim.launch.batch.BatchDialect;
import io.smartsim.launch.batch.BatchStart;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.Detached;
import io.smartsim.launch.pbs.PbsParsers.ShardReport;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.spi.TlsFiles;
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
final class PbsRestart extends BatchRestart.Base<ShardReport> {
    private final LaunchContext ctx;
    private final Map<String, String> was;

    PbsRestart(LaunchPlan plan, LaunchedShard dead, LaunchContext ctx, CommandRunner runner) {
        super(plan, dead, runner, new BatchDialect.Words("ssh", "its wrapper", "what it started was stopped"),
                s -> PbsLauncher.readReport(runner, s));
        this.ctx = ctx;
        this.was = dead.handle();
    }

    LaunchedShard go() {
        String node = was.get(PbsLauncher.NODE);
        if (node == null || !PbsLauncher.MODE_ALLOC.equals(was.get(PbsLauncher.MODE))
                || !RunCommand.SSH.binary().equals(was.get(PbsLauncher.RUN))) {
            throw new ShardStartException("cannot restart shard " + shard.index() + " (" + shard.name() + ") of '"
                    + plan.id() + "': only shards started over ssh in an existing job can be restarted (this one: "
                    + "mode " + was.get(PbsLauncher.MODE) + ", run command " + was.get(PbsLauncher.RUN) + ", node "
                    + node + "); stop the orchestrator and start it again");
        }
        return BatchRestart.run(plan, dead.index(), ctx, this);
    }

    @Override
    public Detached spawn(ShardPlan s, Duration timeout) {
        Optional<Path> sshConfig = Optional.ofNullable(was.get("sshConfig")).map(Path::of);
        return runner.spawn(PbsCommands.runShard(RunCommand.SSH, was.get(PbsLauncher.NODE), "",
                PbsScripts.wrapperPath(s), sshConfig), s.workDir(), BatchScripts.consoleLog(s), timeout);
    }

    /**
     * The ssh client on this machine (started on a thread of its own: pid() waits for it): it lives as long as the
     * server, which is how the next probe tells this shard is gone. Empty through a login node. Known before it
     * lands: a stop from here on ends the ssh client at least.
     */
    @Override
    public LaunchedShard early(ShardPlan s, Detached client) {
        Map<String, String> handle = new LinkedHashMap<>(runner.recorded());
        for (String key : List.of(PbsLauncher.JOB, PbsLauncher.NODE, PbsLauncher.MODE, PbsLauncher.RUN,
                PbsLauncher.DIALECT, "sshConfig")) {
            if (was.containsKey(key)) {
                handle.put(key, was.get(key));
            }
        }
        TlsFiles.record(handle, plan.tls());
        // --ai: it loads the module with its node's model server, which stays recorded (the watchdog revives it)
        handle.putAll(BatchModelServers.entries(dead));
        return early(handle, client.pid());
    }

    @Override
    protected Map<String, String> reported(ShardReport r) {
        Map<String, String> more = new LinkedHashMap<>();
        more.put(PbsLauncher.NODE, r.node());
        r.pid().ifPresent(p -> more.put(PbsLauncher.NODE_PID, Long.toString(p)));
        return more;
    }

    @Override
    public void cancel(Optional<LaunchedShard> landed, Detached client) throws InterruptedException {
        if (landed.isPresent()) {
            PbsLauncher.killOnNodes(runner, List.of(landed.get()));
        }
        client.terminate(Duration.ofSeconds(5));
    }
}
