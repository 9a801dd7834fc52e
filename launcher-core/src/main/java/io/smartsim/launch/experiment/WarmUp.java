package io.smartsim.launch.experiment;

import com.fasterxml.jackson.databind.SerializationFeature;
import io.smartsim.launch.manifest.Manifest;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.spi.Launchers;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.supervise.Supervision;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What a first start in this JVM uses, run ahead so that its classes are loaded and linked (and, in a class-data
 * archive's training run, archived): a plan as the spec's launcher places it, its manifest record as JSON (Jackson and
 * its serializers), an events-log line as {@code EventLog} writes it. {@code ThisMachine.warmUp} is its public face.
 */
public final class WarmUp {
    /** Under this directory nothing is ever written: a plan only names it. */
    static final Path NOWHERE = Path.of("/nonexistent/smartsim-launch-warmup");

    private WarmUp() {
    }

    /**
     * Plans {@code spec} and serializes what a start records of it; with {@code scratch}, also writes an empty
     * manifest there and reads it back. Starts no process; writes nothing but in {@code scratch}.
     */
    public static void run(OrchestratorSpec spec, Optional<Path> scratch) {
        try {
            Launcher launcher = Launchers.find(spec.launcher());
            LaunchPlan plan = Planner.plan("warmup", NOWHERE, spec, launcher.place(spec));
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
}
