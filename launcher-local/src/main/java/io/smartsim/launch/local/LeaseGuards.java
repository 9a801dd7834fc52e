package io.smartsim.launch.local;

import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.exec.DaemonProcess;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.supervise.LeaseGuard;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The local side of {@code --lease}: one {@link LeaseGuard} bash loop per shard, a sibling process of the server. */
final class LeaseGuards {
    /** The key of the guard's pid in a shard's recorded handle. */
    static final String HANDLE = LeaseGuard.HANDLE_PID;

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
    static Optional<Long> start(LaunchPlan plan, ShardPlan s, long pid, List<DaemonProcess> procs) {
        if (plan.spec().lease().isEmpty()) {
            return Optional.empty();
        }
        Path out = s.workDir().resolve(s.name() + ".lease.out");
        DaemonProcess guard = DaemonProcess.spawn(LeaseGuard.argv(plan, pid, s.index()), s.workDir(), out);
        procs.add(guard);
        return Optional.of(guard.pid().orElseThrow(() -> new LaunchException("the lease guard of shard " + s.index()
                + " of '" + plan.id() + "' did not start: " + guard.exit().orElse("?") + "; is /bin/bash there?")));
    }

    /**
     * The shards whose server runs without its guard. The guard is looked at first: a guard ends on its own only once
     * its server has, so a server still running after its guard was found gone lost it some other way (a kill).
     */
    static Set<Integer> missing(LaunchPlan plan, List<LaunchedShard> shards) {
        Set<Integer> out = new LinkedHashSet<>();
        if (plan.spec().lease().isEmpty()) {
            return out;
        }
        for (LaunchedShard s : shards) {
            if (!guardMayRun(s) && LocalLauncher.handle(s).isPresent()) {
                out.add(s.index());
            }
        }
        return out;
    }

    /**
     * Starts the guard of {@code s} (whose server runs) again, its script written again first if it is gone (to a new
     * file renamed into place: running guards keep reading their own); returns {@code s} recording the new guard.
     */
    static LaunchedShard restart(LaunchPlan plan, LaunchedShard s) {
        long pid = s.pid().orElseThrow(() -> new LaunchException("shard " + s.index() + " of '" + plan.id()
                + "' has no recorded pid to guard"));
        Path script = LeaseGuard.path(plan);
        if (!Files.isRegularFile(script)) {
            try {
                Path tmp = Files.createTempFile(script.getParent(), ".lease-guard", ".tmp");
                Files.writeString(tmp, LeaseGuard.render(plan));
                Files.move(tmp, script, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new LaunchException("cannot write the lease guard " + script + " again: " + e.getMessage(), e);
            }
        }
        ShardPlan sp = plan.shards().get(s.index());
        List<DaemonProcess> procs = new java.util.ArrayList<>();
        long guard = start(plan, sp, pid, procs).orElseThrow();
        Map<String, String> handle = new LinkedHashMap<>(s.handle());
        handle.put(HANDLE, Long.toString(guard));
        return new LaunchedShard(s.index(), s.name(), s.host(), s.port(), s.pid(), s.processStart(), handle);
    }

    /** Ends the recorded guards of {@code shards} that still run (only processes running the guard script). */
    static void stop(List<LaunchedShard> shards) throws InterruptedException {
        for (LaunchedShard s : shards) {
            Optional<ProcessHandle> g = guard(s);
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

    /** The recorded guard of {@code s} if it runs: the guard script, watching this shard's server pid. */
    static Optional<ProcessHandle> guard(LaunchedShard s) {
        return recorded(s).filter(h -> isGuard(h, s.pid()).orElse(false));
    }

    /**
     * Whether the recorded guard of {@code s} may still run: false only when its pid is gone or is surely another
     * process; a live process whose command line cannot be read counts as the guard (never start a second one on a
     * guess).
     */
    private static boolean guardMayRun(LaunchedShard s) {
        return recorded(s).filter(h -> isGuard(h, s.pid()).orElse(true)).isPresent();
    }

    private static Optional<ProcessHandle> recorded(LaunchedShard s) {
        return Optional.ofNullable(s.handle().get(HANDLE)).map(Long::parseLong).flatMap(ProcessHandle::of)
                .filter(LocalLauncher::running);
    }

    /** Whether {@code h} runs the guard script for {@code server}; empty when its command line cannot be read. */
    private static Optional<Boolean> isGuard(ProcessHandle h, Optional<Long> server) {
        return h.info().arguments().map(a -> a.length > 1 && a[0].endsWith(LeaseGuard.FILE)
                && server.map(p -> a[1].equals(Long.toString(p))).orElse(true));
    }
}
