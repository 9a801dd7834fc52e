package io.smartsim.launch.local;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.colocated.ColocatedPlanner;
import io.smartsim.launch.colocated.ColocatedStatus;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.spi.ModelState;
import io.smartsim.launch.spec.RunSettings;
import io.smartsim.launch.spi.LaunchedModel;
import io.smartsim.launch.spi.ModelLauncher;
import io.smartsim.launch.spi.RenderedLaunch;
import io.smartsim.launch.util.Executables;
import io.smartsim.launch.util.ProcStat;

import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs each model as one process on this machine: no run command, stdout and stderr to the plan's files, stdin
 * from /dev/null. It honours only one run setting, the task count: {@code tasks} (or {@code tasksPerNode}) N > 1
 * runs N ranks on this machine under a small bash parent ({@link #RANKS}), each with {@code SMARTSIM_RANK} 0..N-1 and
 * {@code SMARTSIM_NTASKS}, the model ending with the first non-zero exit code of its ranks. Anything else must be
 * the default (1 node, 1 CPU, no run arguments, no batch job), and it names the first one that differs. A model with
 * a colocated database runs each rank through its wrapper (docs/colocated.md). The processes are children of this
 * JVM: it knows their exit codes, and stops them (and their descendants) on request.
 */
public final class LocalModelLauncher implements ModelLauncher {
    private final Map<String, Process> processes = new ConcurrentHashMap<>();
    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
    private final Map<String, ColocatedPlan> colocated = new ConcurrentHashMap<>();

    /**
     * The parent of N ranks: {@code bash -c RANKS ranks N ARGV...} starts N copies of ARGV and exits with the first
     * non-zero exit code in rank order (0 when all succeed).
     */
    static final String RANKS = "n=$1; shift; pids=(); "
            + "for ((r = 0; r < n; r++)); do SMARTSIM_RANK=$r SMARTSIM_NTASKS=$n \"$@\" & pids+=($!); done; "
            + "rc=0; for p in \"${pids[@]}\"; do wait \"$p\"; c=$?; [ \"$rc\" -eq 0 ] && rc=$c; done; exit \"$rc\"";

    @Override
    public String name() {
        return LocalLauncher.NAME;
    }

    @Override
    public boolean runsColocatedDatabases() {
        return true;
    }

    @Override
    public void validate(ModelPlan plan) {
        RunSettings r = plan.run();
        String fix = "; the local launcher runs one process on this machine: remove it or choose the slurm launcher";
        if (r.nodes() != 1) {
            throw new InvalidSpecException("run.nodes", "model '" + plan.name() + "' asks for " + r.nodes() + " nodes"
                    + fix);
        }
        if (r.cpusPerTask() != 1) {
            throw new InvalidSpecException("run.cpusPerTask", "model '" + plan.name() + "' asks for "
                    + r.cpusPerTask() + " CPUs per task, which the local launcher cannot reserve" + fix);
        }
        if (!r.runArgs().isEmpty()) {
            throw new InvalidSpecException("run.runArgs", "model '" + plan.name() + "' gives run-command arguments "
                    + r.runArgs() + ", but the local launcher uses no run command" + fix);
        }
        if (r.batch().isPresent()) {
            throw new InvalidSpecException("run.batch", "model '" + plan.name() + "' asks for a batch job, but the "
                    + "local launcher has no batch system" + fix);
        }
        if (r.alloc().isPresent()) {
            throw new InvalidSpecException("run.alloc", "model '" + plan.name() + "' names allocation "
                    + r.alloc().get() + ", but the local launcher has no allocations" + fix);
        }
        String exe = plan.exe();
        if (Executables.onPath(exe).isEmpty()) {
            throw new InvalidSpecException("exe", "model '" + plan.name() + "': " + (exe.contains("/")
                    ? exe + " is not an executable file (check the path and chmod +x)"
                    : exe + " was not found on PATH; give its path"));
        }
    }

    @Override
    public RenderedLaunch render(ModelPlan plan, Map<String, String> dbEnv) {
        return new RenderedLaunch(argv(plan), environment(plan, dbEnv),
                plan.colocated().map(ColocatedPlanner::files).orElse(Map.of()));
    }

    /** The command: the rank's argv (through the colocated wrapper if any), under {@link #RANKS} for N > 1 ranks. */
    static List<String> argv(ModelPlan plan) {
        int n = plan.run().totalTasks();
        if (n == 1) {
            return plan.rankArgv();
        }
        List<String> out = new ArrayList<>(List.of("bash", "-c", RANKS, "ranks", Integer.toString(n)));
        out.addAll(plan.rankArgv());
        return out;
    }

    private static Map<String, String> environment(ModelPlan plan, Map<String, String> dbEnv) {
        Map<String, String> env = new LinkedHashMap<>(dbEnv);
        env.putAll(plan.env());
        return env;
    }

    @Override
    public LaunchedModel start(ModelPlan plan, Map<String, String> dbEnv) {
        ProcessBuilder pb = new ProcessBuilder(argv(plan)).directory(plan.workDir().toFile())
                .redirectOutput(ProcessBuilder.Redirect.appendTo(plan.stdout().toFile()))
                .redirectError(ProcessBuilder.Redirect.appendTo(plan.stderr().toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(environment(plan, dbEnv));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new LaunchException("model '" + plan.name() + "' could not start: `" + String.join(" ", plan.argv())
                    + "` in " + plan.workDir() + ": " + e.getMessage(), e);
        }
        String id = Long.toString(p.pid());
        processes.put(id, p);
        plan.colocated().ifPresent(c -> colocated.put(id, c));
        return new LaunchedModel(plan.name(), name(), id, Optional.of(p.pid()),
                p.toHandle().info().startInstant().orElse(Instant.now()), Map.of(NODE, node()));
    }

    /** The handle's key of the node a model runs on, as the batch launchers' handles and the shards' name theirs. */
    static final String NODE = LaunchedModel.NODE;

    /** This machine's short host name, the node every local model runs on ({@link ThisNode}, as the shards'). */
    static String node() {
        return ThisNode.name();
    }

    @Override
    public Map<String, ModelState> poll(List<LaunchedModel> models) {
        Map<String, ModelState> out = new LinkedHashMap<>();
        for (LaunchedModel m : models) {
            Process p = processes.get(m.id());
            if (p == null) {
                out.put(m.name(), new ModelState(ProcessHandle.of(Long.parseLong(m.id())).filter(ProcStat::running)
                        .isPresent() ? EntityStatus.RUNNING : EntityStatus.FAILED, Optional.empty(),
                        Optional.of("started by another process: its exit code is unknown here")));
            } else if (p.isAlive()) {
                out.put(m.name(), ModelState.of(EntityStatus.RUNNING));
            } else {
                ModelState s = ended(m.id(), p.exitValue());
                ColocatedPlan c = colocated.get(m.id());
                // a database that did not start: its error (node, port or socket, log tail) says why
                out.put(m.name(), c == null ? s : ColocatedStatus.explained(c, s));
            }
        }
        return out;
    }

    private ModelState ended(String id, int code) {
        if (cancelled.contains(id)) {
            return new ModelState(EntityStatus.CANCELLED, Optional.of(code), Optional.of("stopped on request"));
        }
        if (code == 0) {
            return new ModelState(EntityStatus.COMPLETED, Optional.of(0), Optional.empty());
        }
        // A process killed by a signal reports 128 + the signal number.
        return new ModelState(EntityStatus.FAILED, Optional.of(code), code > 128 && code < 160
                ? Optional.of("killed by signal " + (code - 128)) : Optional.empty());
    }

    @Override
    public void stop(List<LaunchedModel> models, Duration grace) {
        List<ProcessHandle> tree = new ArrayList<>();
        for (LaunchedModel m : models) {
            Process p = processes.get(m.id());
            Optional<ProcessHandle> h = p != null ? Optional.of(p.toHandle()) : ProcessHandle.of(Long.parseLong(m.id()));
            if (h.isEmpty() || !ProcStat.running(h.get())) {
                continue;
            }
            cancelled.add(m.id());
            // Children first: a shell script's own children would otherwise outlive it.
            h.get().descendants().forEach(tree::add);
            tree.add(h.get());
        }
        tree.forEach(ProcessHandle::destroy);
        try {
            if (!awaitGone(tree, grace)) {
                tree.stream().filter(ProcStat::running).forEach(ProcessHandle::destroyForcibly);
                awaitGone(tree, Duration.ofSeconds(5));
            }
        } catch (InterruptedException e) {
            tree.forEach(ProcessHandle::destroyForcibly);
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Polls every 10 ms until each process is gone, at most {@code limit}. Polled rather than
     * {@code onExit()}: for a grandchild (not this JVM's child) the JDK polls with growing pauses of its own. A zombie
     * has gone ({@link ProcStat}): its parent may be slow to reap it (a container's PID 1) or never do so.
     */
    private static boolean awaitGone(List<ProcessHandle> tree, Duration limit) throws InterruptedException {
        long until = System.nanoTime() + limit.toNanos();
        while (tree.stream().anyMatch(ProcStat::running)) {
            if (System.nanoTime() > until) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }
}
