package io.smartsim.launch.experiment;

import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.planned.Access;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.supervise.LeaseKeeper;
import io.smartsim.launch.supervise.Supervisor;
import io.smartsim.launch.telemetry.Telemetry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What one start of an orchestrator ({@link OrchestratorStart}) has started: the shard processes its launcher
 * reported, the lease renewals ({@code --lease}) and the in-process watchdog, or the pid of the watchdog process it
 * left behind. Closing it stops what it started: the supervision here, then every shard it reported
 * ({@code SHUTDOWN NOSAVE}, then the launcher's stop). A failed start is closed before its error is thrown, so it
 * tears down exactly what it started. {@link #release} ends only the supervision here and leaves the shards running.
 */
public final class StartedOrchestrator implements AutoCloseable {
    /** How long stopped shards get to exit after SHUTDOWN before they are terminated (Experiment.STOP_GRACE). */
    public static final Duration STOP_GRACE = Duration.ofSeconds(10);
    /** How long a control command ({@code SHUTDOWN}) to one shard may take. */
    static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(2);

    private final String id;
    private final Launcher launcher;
    private final Access access;
    /** In report order; a shard reported again (it landed) replaces its earlier entry. Guarded by itself. */
    private final List<LaunchedShard> spawned = new ArrayList<>();
    private LeaseKeeper keeper;
    private Supervisor supervisor;
    private Telemetry telemetry;
    private Long watchdogPid;
    private boolean refusing;

    StartedOrchestrator(String id, Launcher launcher, Access access) {
        this.id = id;
        this.launcher = launcher;
        this.access = access;
    }

    String id() {
        return id;
    }

    /** Every shard reported so far. */
    List<LaunchedShard> shards() {
        synchronized (spawned) {
            return List.copyOf(spawned);
        }
    }

    /**
     * A shard the launcher reports. Once {@link #refuseMore} was called (the JVM is exiting) it is kept, so it is
     * stopped too, and the start is ended with an exception: the launcher then stops what it started.
     */
    void spawned(LaunchedShard s) {
        synchronized (spawned) {
            spawned.removeIf(x -> x.index() == s.index());
            spawned.add(s);
            if (refusing) {
                throw new LaunchException("shard " + s.index() + " of this launch started while the JVM was "
                        + "exiting; the launch is abandoned and what it started is being stopped");
            }
        }
    }

    /** From now on a shard reported ends the start; returns the shards reported until now. */
    List<LaunchedShard> refuseMore() {
        synchronized (spawned) {
            refusing = true;
            return List.copyOf(spawned);
        }
    }

    synchronized void keeper(LeaseKeeper k) {
        keeper = k;
    }

    synchronized Optional<LeaseKeeper> keeper() {
        return Optional.ofNullable(keeper);
    }

    /** The watchdog running in this process; it has adopted the lease keeper. */
    synchronized void supervisor(Supervisor s) {
        supervisor = s;
    }

    synchronized Optional<Supervisor> supervisor() {
        return Optional.ofNullable(supervisor);
    }

    /** The collector running in this process while the experiment is open ({@code --telemetry on}). */
    synchronized void telemetry(Telemetry t) {
        telemetry = t;
    }

    synchronized Optional<Telemetry> telemetry() {
        return Optional.ofNullable(telemetry);
    }

    synchronized void watchdogPid(long pid) {
        watchdogPid = pid;
    }

    /** The watchdog process left to supervise the orchestrator, when it was started detached and needs one. */
    public synchronized Optional<Long> watchdogPid() {
        return Optional.ofNullable(watchdogPid);
    }

    /**
     * Ends the supervision here (the collector, the watchdog thread, or, before it exists, the lease renewals),
     * leaving the shards as they are; {@code why} goes to the events log. Safe to call twice.
     */
    void release(String why) {
        Supervisor s;
        LeaseKeeper k;
        Telemetry t;
        synchronized (this) {
            s = supervisor;
            k = keeper;
            t = telemetry;
            supervisor = null;
            keeper = null;
            telemetry = null;
        }
        if (t != null) {
            t.close(); // before the shards stop: no sample of a shard being shut down
        }
        if (s != null) {
            s.close(why); // closes the keeper it adopted
        } else if (k != null) {
            k.close();
        }
    }

    /** Stops {@code shards} of this start without saving: {@code SHUTDOWN NOSAVE}, then the launcher's stop. */
    void teardown(List<LaunchedShard> shards) {
        Shards.teardown(launcher, shards, CONTROL_TIMEOUT, STOP_GRACE, access);
    }

    /** Ends the supervision here, then stops every shard this start reported. Safe to call twice. */
    @Override
    public void close() {
        release("stopped");
        teardown(shards());
    }
}
