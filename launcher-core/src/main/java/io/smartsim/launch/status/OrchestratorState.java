package io.smartsim.launch.status;

/**
 * An orchestrator's lifecycle as the process holding it knows it ({@code Orchestrator#state()}): NEW (planned, not
 * started), RUNNING (healthy since its start, or recorded running), STOPPED, FAILED. What the manifest records is
 * {@link Status}; what a check of the processes finds now is {@link OrchestratorStatus#state()}.
 */
public enum OrchestratorState { NEW, RUNNING, STOPPED, FAILED }
