package io.smartsim.launch.dashboard;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.testing.Leftovers;

import java.nio.file.Path;

/** A real 3-shard orchestrator of real redis-server processes (the local launcher), for the telemetry tests. */
final class RunningOrchestrator implements AutoCloseable {
    final Path expDir;
    final Experiment exp;
    final Orchestrator db;

    private RunningOrchestrator(Path expDir, Experiment exp, Orchestrator db) {
        this.expDir = expDir;
        this.exp = exp;
        this.db = db;
    }

    static RunningOrchestrator start(Path expDir, Leftovers leftovers, int shards) {
        int base = leftovers.freeBase(shards);
        Experiment exp = Experiment.create("telemetry-it", expDir);
        try {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().nodes(1).instancesPerNode(shards)
                    .port(base).build());
            exp.start(db);
            return new RunningOrchestrator(expDir, exp, db);
        } catch (RuntimeException e) {
            exp.close();
            throw e;
        }
    }

    /** Its manifest entry, as a collector started from another process would read it. */
    OrchestratorRecord record() {
        return new ManifestStore(expDir).read().orElseThrow().find(db.id()).orElseThrow();
    }

    long pid(int shard) {
        return record().shards().get(shard).pid().orElseThrow();
    }

    String password() {
        return db.plan().auth().orElseThrow().password();
    }

    @Override
    public void close() {
        try {
            exp.stop(db);
        } finally {
            exp.close();
        }
    }
}
