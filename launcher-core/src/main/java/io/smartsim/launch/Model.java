package io.smartsim.launch;

import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.experiment.ModelHandle;
import io.smartsim.launch.spi.ModelLauncher;

/**
 * One application run of an experiment (or one member of an ensemble): its plan and, once started, where it
 * runs and how it ended. Created by {@link Experiment#createModel} or {@link Experiment#createEnsemble}, started,
 * polled and stopped through the experiment. What it offers is {@link ModelHandle}'s public methods.
 */
public final class Model extends ModelHandle implements Entity {
    Model(ModelPlan plan, ModelLauncher launcher) {
        super(plan, launcher);
    }

    @Override
    public String toString() {
        return "Model[" + name() + ", " + status() + exitCode().map(c -> ", exit " + c).orElse("") + "]";
    }
}
