package io.smartsim.launch.status;

import java.time.Instant;
import java.util.Optional;

/**
 * One transition of a supervised orchestrator, as one line of its events log (written and read by the internal
 * {@code supervise.EventLog}); {@code Experiment.supervision} returns them.
 *
 * @param time         when it happened
 * @param orchestrator orchestrator id
 * @param type         what happened: one of the {@code Event.*} names ({@link #STARTED}, {@link #SHARD_DOWN}, ...)
 * @param shard        the shard it concerns; empty for the whole orchestrator
 * @param detail       a short human sentence: how a death was noticed, the new pid, why a restart failed
 */
public record Event(Instant time, String orchestrator, String type, Optional<Integer> shard, String detail) {
    public static final String STARTED = "started";
    public static final String HEALTHY = "healthy";
    public static final String SUPERVISING = "supervising";
    public static final String SHARD_DOWN = "shard-down";
    /** A replica of a dead master took its slots over before the master's restart ({@code supervise.Handover}). */
    public static final String FAILOVER = "failover";
    /** A dead master's slots could not be handed to a replica (none up, or it did not take them in time). */
    public static final String FAILOVER_FAILED = "failover-failed";
    public static final String RESTARTING = "restarting";
    public static final String RESTARTED = "restarted";
    public static final String REJOINED = "rejoined";
    public static final String RESTART_FAILED = "restart-failed";
    public static final String GAVE_UP = "gave-up";
    public static final String CONTROLLER_GONE = "controller-gone";
    public static final String LEASE_EXPIRED = "lease-expired";
    /** A renewal could not reach some of the shards' hosts (ssh launcher): they keep the previous expiry. */
    public static final String LEASE_PUSH_FAILED = "lease-push-failed";
    /** A renewal reached the hosts with less than a third of the lease left: the machine or the hosts are slow. */
    public static final String LEASE_RENEWAL_LATE = "lease-renewal-late";
    /** A shard's lease guard was gone while its server ran: the watchdog started it again. */
    public static final String GUARD_RESTARTED = "guard-restarted";
    /** Starting a lost lease guard again failed (said once per shard until it succeeds). */
    public static final String GUARD_RESTART_FAILED = "guard-restart-failed";
    /** A shard still ran well after the lease ran out (its guard gone): the watchdog stopped it itself. */
    public static final String LEASE_ENFORCED = "lease-enforced";
    /** Under {@code --ai} (the Redis module): the host's model server was gone and was started again. */
    public static final String MODEL_SERVER_RESTARTED = "model-server-restarted";
    /** Under {@code --ai}: the host's model server was gone and could not be started again (tried again later). */
    public static final String MODEL_SERVER_RESTART_FAILED = "model-server-restart-failed";
    public static final String WATCHDOG_EXIT = "watchdog-exit";
    public static final String STOPPED = "stopped";

    public Event {
        shard = shard == null ? Optional.empty() : shard;
        detail = detail == null ? "" : detail;
    }

    public static Event of(String orchestrator, String type, String detail) {
        return new Event(Instant.now(), orchestrator, type, Optional.empty(), detail);
    }

    public static Event of(String orchestrator, String type, int shard, String detail) {
        return new Event(Instant.now(), orchestrator, type, Optional.of(shard), detail);
    }
}
