package io.smartsim.launch.spi;

/** Where a model (or an ensemble member) is in its life, as SmartSim names it. */
public enum EntityStatus {
    /** Created, not started. */
    NEW,
    /** Submitted to a scheduler, waiting for resources. */
    QUEUED,
    /** Its process (or job step) runs. */
    RUNNING,
    /** Exited with code 0. */
    COMPLETED,
    /** Exited with a non-zero code, or could not run. */
    FAILED,
    /** Stopped on request (exp.stop, Ctrl-C, SIGTERM). */
    CANCELLED;

    /** COMPLETED, FAILED or CANCELLED: it will not change again. */
    public boolean terminal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }
}
