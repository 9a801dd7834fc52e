package io.smartsim.launch.status;

/** What the manifest last recorded about an orchestrator. */
public enum Status {
    /** A launch began; shards recorded so far may be running. */
    STARTING,
    /** Started, formed and healthy when recorded. */
    RUNNING,
    /** The launch failed; everything it started was stopped. */
    FAILED,
    /** Stopped on request. */
    STOPPED
}
