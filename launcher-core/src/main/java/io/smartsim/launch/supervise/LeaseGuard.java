package io.smartsim.launch.supervise;

import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.script.Template;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The lease guard ({@code --lease}): a small bash loop started next to each shard that stops it once the lease file
 * ({@link Lease}) says the lease has run out, so the shard stops even when every controller is gone. Rendering is
 * pure; the launcher writes {@link #path} and starts {@link #argv} per shard.
 */
public final class LeaseGuard {
    /** How long a shard told to stop (SIGTERM) gets to save and exit before SIGKILL. */
    public static final Duration GRACE = Duration.ofSeconds(60);
    public static final String FILE = "lease-guard.sh";
    /** The key of a shard's recorded handle holding its guard's pid, for launchers that run it apart (local, ssh). */
    public static final String HANDLE_PID = "leaseGuardPid";

    private LeaseGuard() {
    }

    /** The guard script for {@code plan}, which must have a lease. */
    public static String render(LaunchPlan plan) {
        Duration lease = plan.spec().lease().orElseThrow(() -> new IllegalArgumentException("orchestrator '"
                + plan.id() + "' has no lease; a lease guard needs one"));
        return Template.resource(LeaseGuard.class, FILE).render(Map.of(
                "id", plan.id(),
                "leaseFile", Lease.in(plan.dir()).file().toString(),
                "events", EventLog.in(plan.dir()).file().toString(),
                "leaseSeconds", Long.toString(Math.max(1, lease.toSeconds())),
                "graceSeconds", Long.toString(GRACE.toSeconds())));
    }

    /** Where the script lives: {@code <experiment dir>/<id>/lease-guard.sh}. */
    public static Path path(LaunchPlan plan) {
        return plan.dir().resolve(FILE);
    }

    /** The command that guards the shard with process id {@code pid}. */
    public static List<String> argv(LaunchPlan plan, long pid, int shard) {
        return List.of("/bin/bash", path(plan).toString(), Long.toString(pid), Integer.toString(shard));
    }
}
