package io.smartsim.launch.experiment;

import com.fasterxml.jackson.databind.SerializationFeature;
import io.smartsim.launch.cluster.HealthChecker;
import io.smartsim.launch.manifest.Manifest;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.planned.Access;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.spi.Launchers;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.supervise.Supervision;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What a first start in this JVM uses, run ahead so that its classes are loaded and linked (and, in a class-data
 * archive's training run, archived): a plan as the spec's launcher places it, its manifest record as JSON (Jackson and
 * its serializers), an events-log line as {@code EventLog} writes it. {@code ThisMachine.warmUp} is its public face.
 */
public final class WarmUp {
    /** Under this directory nothing is ever written: a plan only names it. */
    static final Path NOWHERE = Path.of("/nonexistent/smartsim-launch-warmup");
    /** How long the rehearsal's health check waits for each shard's reply. */
    static final Duration REHEARSAL_TIMEOUT = Duration.ofSeconds(1);
    private static final AtomicBoolean REHEARSED = new AtomicBoolean();

    private WarmUp() {
    }

    /**
     * Plans {@code spec} and serializes what a start records of it; with {@code scratch}, also writes an empty
     * manifest there and reads it back. Starts no process; writes nothing but in {@code scratch}.
     */
    public static void run(OrchestratorSpec spec, Optional<Path> scratch) {
        try {
            Launcher launcher = Launchers.find(spec.launcher());
            LaunchPlan plan = plan(launcher, spec);
            OrchestratorRecord r = new OrchestratorRecord(plan.id(), launcher.name(), Status.STARTING, plan.spec(),
                    plan, List.of(), Instant.now(), Optional.empty(), List.of(), Optional.of(Supervision.record(plan)));
            Json.mapper().writeValueAsBytes(Manifest.empty("warmup").with(r));
            // then an events-log line, written as EventLog writes it (the 'started' event comes right before the spawn)
            Json.mapper().writer().without(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(Event.of("warmup", Event.STARTED, "warmup"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        scratch.ifPresent(dir -> {
            new ManifestStore(dir).update("warmup", m -> m);
            new ManifestStore(dir).read();
        });
    }

    /** Plans {@code spec} as its launcher places it (no preflight, no start), under {@link #NOWHERE}; no JSON. */
    public static LaunchPlan plan(OrchestratorSpec spec) {
        return plan(Launchers.find(spec.launcher()), spec);
    }

    private static LaunchPlan plan(Launcher launcher, OrchestratorSpec spec) {
        return Planner.plan("warmup", NOWHERE, spec, launcher.place(spec));
    }

    /**
     * Once per JVM, on a daemon thread of its own: {@link #rehearse} the start's health check while the start waits out
     * Redis's 2 s before a new cluster is writable ({@code CLUSTER_WRITABLE_DELAY}), when the machine has nothing else
     * to do. What runs right after that wait (the forming's last check of every node's view of the slots, the health
     * check, the report) then runs warm: in a new JVM (every {@code db start} of the CLI) its first run loads and links
     * classes and bootstraps records' {@code equals}, all of it after the cluster is already healthy. Returns the
     * thread, or empty when this JVM has rehearsed already.
     */
    static Optional<Thread> whileWaiting(List<HealthChecker.Target> targets, boolean clustered, Access access) {
        if (!REHEARSED.compareAndSet(false, true)) {
            return Optional.empty();
        }
        Thread t = new Thread(() -> rehearse(targets, clustered, access), "smartsim-launch-warmup-health");
        t.setDaemon(true);
        t.start();
        return Optional.of(t);
    }

    /**
     * The start's health check of {@code targets} as it runs once the cluster is writable (read only: INFO, CLUSTER
     * INFO, CLUSTER NODES; each reply within {@link #REHEARSAL_TIMEOUT}), and a slot map compared as the forming
     * compares them. The report is only returned (a shard not yet in the cluster is no fault here); nothing of it is
     * recorded or printed, and nothing is thrown: the start itself checks again and reports what fails.
     */
    static Optional<HealthReport> rehearse(List<HealthChecker.Target> targets, boolean clustered, Access access) {
        try {
            List<SlotRange> all = List.of(new SlotRange(0, SlotRange.SLOTS - 1));
            if (!all.equals(List.copyOf(all)) || all.hashCode() != List.copyOf(all).hashCode()) {
                throw new IllegalStateException("a slot range differs from its copy: " + all);
            }
            return Optional.of(HealthChecker.check(targets, clustered, REHEARSAL_TIMEOUT, access));
        } catch (RuntimeException | LinkageError e) {
            return Optional.empty();
        }
    }
}
