package io.smartsim.launch.cli;

import io.smartsim.launch.experiment.Recorder;
import io.smartsim.launch.manifest.OrchestratorRecord;

import java.util.Optional;

/** A test fixture for ArchitectureTest: CLI code reaching behind the facade, which the CLI rule refuses. */
final class CliCrossingFixture {
    private CliCrossingFixture() {
    }

    static Optional<OrchestratorRecord> find(Recorder recorder, String id) {
        return recorder.find(id);
    }
}
