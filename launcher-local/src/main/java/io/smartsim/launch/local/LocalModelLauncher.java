package io.smartsim.launch.local;

import io.smartsim.launch.InvalidSpecException;
import io.smartsim.launch.LaunchException;
import io.smartsim.launch.entity.EntityStatus;
import io.smartsim.launch.entity.ModelPlan;
import io.smartsim.launch.entity.ModelState;
import io.smartsim.launch.entity.RunSettings;
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
 * from /dev/null. It honours no run settings, so it accepts only the defaults (1 node, 1 task, 1 CPU, no run
 * arguments, no batch job) and names the first one that differs. The processes are children of this JVM: it
 * knows their exit codes, and stops them (and their descendants) on request.
 */
public final class LocalModelLauncher implements ModelLauncher {
    private final Map<String, Process> processes = new ConcurrentHashMap<>();
    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();

    @Override
    public String name() {
        return LocalLauncher.NAME;
    }

    @Override
    public void validate(ModelPlan plan) {
        RunSettings r = plan.run();
        String fix = "; the local launcher runs one process on this machine: remove it or choose the slurm launcher";
        if (r.nodes() != 1) {
            throw new InvalidSpecException("run.nodes", "model '" + plan.name() + "' asks for " + r.nodes() + " nodes"
                    + fix);
        }
        if (r.totalTasks() != 1) {
            throw new InvalidSpecException(r.tasks().isPresent() ? "run.tasks" : "run.tasksPerNode", "model '"
                    + plan.name() + "' asks for " + r.totalTasks() + " tasks" + fix);
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
        return new RenderedLaunch(plan.argv(), environment(plan, dbEnv), Map.of());
    }

    private static Map<String, String> environment(ModelPlan plan, Map<String, String> dbEnv) {
        Map<String, String> env = new LinkedHashMap<>(dbEnv);
        env.putAll(plan.env());
        return env;
    }

    @Override
    public LaunchedModel start(ModelPlan plan, Map<String, String> dbEnv) {
        ProcessBuilder pb = new ProcessBuilder(plan.argv()).directory(plan.workDir().toFile())
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
        return new LaunchedModel(plan.name(), name(), id, Optional.of(p.pid()),
                p.toHandle().info().startInstant().orElse(Instant.now()), Map.of());
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
                out.put(m.name(), ended(m.id(), p.exitValue()));
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
