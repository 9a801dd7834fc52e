package io.smartsim.launch.spi;

import io.smartsim.launch.planned.LaunchPlan;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A launcher that starts a lease guard ({@link io.smartsim.launch.supervise.LeaseGuard}) beside each shard of a plan
 * with {@code --lease}, so the shard stops itself when nobody renews the lease. Core checks for this type when it plans
 * and refuses {@code --lease} by name for a launcher that is not one; renewals reach the guards through it.
 */
public interface Leasable extends Launcher {
    /**
     * After the lease file on this machine was renewed to {@code expiry}: makes the shards' lease guards see it. The
     * default does nothing: the guards read that file (same machine, or a file system the nodes share). A launcher
     * whose hosts have their own copy (ssh) writes the new expiry there; it tries every host and then throws naming
     * those it could not reach (their shards keep the old expiry, the safe direction).
     */
    default void pushLease(LaunchPlan plan, List<LaunchedShard> shards, Instant expiry) {
    }

    /**
     * As {@link #pushLease(LaunchPlan, List, Instant)}, giving up on a host after {@code timeout} (the renewing thread
     * passes the time its hosts' current expiry leaves, so a host that hangs cannot hold back the next renewal for
     * long). The default ignores the timeout.
     */
    default void pushLease(LaunchPlan plan, List<LaunchedShard> shards, Instant expiry, Duration timeout) {
        pushLease(plan, shards, expiry);
    }

    /**
     * The groups of {@code shards} that {@link #pushLease} reaches with one push each (one per SSH host for the ssh
     * launcher), so that renewals go to each group on its own and a slow or hung one holds back no other. The default:
     * all of them together (launchers whose push writes one file, or nothing).
     */
    default Map<String, List<LaunchedShard>> leaseTargets(List<LaunchedShard> shards) {
        return shards.isEmpty() ? Map.of() : Map.of("", shards);
    }

    /**
     * A leasing launcher that can see its shards' guards from here and start one again (local, ssh). The watchdog
     * asks one every check; for a launcher whose guard runs inside the shard's own step or task (Slurm, PBS) a guard
     * cannot be seen without a command on the node, so it is not one of these.
     */
    interface GuardWatch extends Leasable {
        /**
         * The indices of the shards among {@code shards} whose server process runs but whose lease guard does not
         * (killed, say): such a shard would outlive the lease. The watchdog calls {@link #restartGuard} for each.
         */
        java.util.Set<Integer> missingGuards(LaunchPlan plan, List<LaunchedShard> shards);

        /**
         * Starts the lease guard of {@code shard}, whose server still runs, again, beside it; returns the shard as it
         * is to be recorded from now on (its handle naming the new guard). Only called for shards
         * {@link #missingGuards} named.
         */
        LaunchedShard restartGuard(LaunchPlan plan, LaunchedShard shard);
    }
}
