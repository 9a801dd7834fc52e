package io.smartsim.launch;

/**
 * Something an experiment starts: an {@link Orchestrator}, a {@link Model} or an {@link Ensemble}.
 * {@link Experiment#start(Entity...)} starts orchestrators first and models once every orchestrator is healthy.
 */
public interface Entity {
    /** Unique in its experiment; names its directory. */
    String name();

    /** "Orchestrator", "Model", "Ensemble" or "Ensemble member", as the summary table shows it. */
    String type();
}
