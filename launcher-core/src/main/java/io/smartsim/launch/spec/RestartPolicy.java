package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;
import java.util.Arrays;
import java.util.stream.Collectors;

/** What happens when a shard's process dies while the orchestrator runs ({@code --restart}). */
public enum RestartPolicy {
    /** Nothing: the shard stays down and status reports the orchestrator degraded (the default). */
    NO("no"),
    /** A watchdog restarts the shard on the same node and port with its cluster state file. */
    ON_FAILURE("on-failure");

    private final String id;

    RestartPolicy(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    public static RestartPolicy parse(String text) {
        for (RestartPolicy p : values()) {
            if (p.id.equalsIgnoreCase(text == null ? "" : text.strip())) return p;
        }
        throw new InvalidSpecException("restart", "'" + text + "' is not a restart policy; use one of "
                + Arrays.stream(values()).map(RestartPolicy::id).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return id;
    }
}
