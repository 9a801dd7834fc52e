package io.smartsim.launch.local;

import io.smartsim.launch.LaunchException;
import io.smartsim.launch.exec.DetachedProcess;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.plan.ShardPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.supervise.LeaseGuard;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The local side of {@code --lease}: one {@link LeaseGuard} bash loop per shard, a sibling process of the server. */
final class LeaseGuards {
    /** The key of the guard's pid in a shard's recorded handle. */
    static final String HANDLE = "leaseGuardPid";

    private LeaseGuards() {
    }

    /** Writes the guard script when the plan has a lease. */
    static void write(LaunchPlan plan) {
        if (plan.spec().lease().isEmpty()) {
            return;
        }
        try {
            Files.writeString(LeaseGuard.path(plan), LeaseGuard.render(plan));
        } catch (IOException e) {
            throw new LaunchException("cannot write the lease guard " + LeaseGuard.path(plan) + ": " + e.getMessage(), e);
        }
    }

    /** Starts the guard of shard {@code s} (server pid {@code pid}) under a lease; its pid, added to {@code procs}. */
    static Optional<Long> start(LaunchPlan plan, ShardPlan s, long pid, List<DetachedProcess> procs) {
        if (plan.spec().lease().isEmpty()) {
            return Optional.empty();
        }
        Path out = s.workDir().resolve(s.name() + ".lease.out");
        DetachedProcess guard = DetachedProcess.spawn(LeaseGuard.argv(plan, pid, s.index()), s.workDir(), out);
        procs.add(guard);
        return Optional.of(guard.pid().orElseThrow(() -> new LaunchException("the lease guard of shard " + s.index()
                + " of '" + plan.id() + "' did not start: " + guard.exit().orElse("?") + "; is /bin/bash there?")));
    }

    /** Ends the recorded guards of {@code shards} that still run (only processes running the guard script). */
    static void stop(List<LaunchedShard> shards) throws InterruptedException {
        for (LaunchedShard s : shards) {
            Optional<ProcessHandle> g = Optional.ofNullable(s.handle().get(HANDLE)).map(Long::parseLong)
                    .flatMap(ProcessHandle::of).filter(LeaseGuards::isGuard);
            if (g.isPresent()) {
                g.get().destroy();
                long until = System.nanoTime() + 2_000_000_000L;
                while (LocalLauncher.running(g.get()) && System.nanoTime() < until) {
                    Thread.sleep(5);
                }
                if (LocalLauncher.running(g.get())) {
                    g.get().destroyForcibly();
                }
            }
        }
    }

    private static boolean isGuard(ProcessHandle h) {
        return LocalLauncher.running(h) && h.info().arguments().map(a -> a.length > 0
                && a[0].endsWith(LeaseGuard.FILE)).orElse(false);
    }
}
