package io.smartsim.launch;

import io.smartsim.launch.experiment.OrchestratorHandle;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.status.OrchestratorState;

import java.util.List;

/**
 * One database of an experiment: its spec, its plan and, once started, where its shards run. Created by
 * {@link Experiment#createOrchestrator}, started and stopped through the experiment. What it offers is
 * {@link OrchestratorHandle}'s public methods: id, spec, plan, state, shards, addresses, {@code SSDB}, dbEnv, health.
 */
public final class Orchestrator extends OrchestratorHandle implements Entity {
    Orchestrator(LaunchPlan plan, Launcher launcher, OrchestratorState state, List<LaunchedShard> shards) {
        super(plan, launcher, state, shards);
    }

    @Override
    public String toString() {
        return "Orchestrator[" + id() + ", " + state() + ", " + ssdb() + "]";
    }
}
