package io.smartsim.launch.status;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * One node's colocated database of a model ({@code Model.colocatedDatabases()}), as its directory and a PING say:
 * checked from here when the node is this machine, else as the node itself last reported it (every
 * {@code ColocatedStatus.REPORT_EVERY}, into the model's directory, which every node shares).
 *
 * @param node      the node's short host name
 * @param pid       the server's pid on its node, as the wrapper recorded it
 * @param alive     whether that process runs (checked here; for another node: it reported recently)
 * @param answering whether the server answered PING (for another node: in its last report, if recent)
 * @param address   where it was asked: {@code 127.0.0.1:PORT} or {@code unix:///path} (on its node)
 * @param log       its log
 * @param reported  when its node last reported it, for a node other than this machine; empty when checked here
 */
public record ColocatedNode(String node, long pid, boolean alive, boolean answering, String address, Path log,
                            Optional<Instant> reported) {
    public ColocatedNode {
        reported = reported == null ? Optional.empty() : reported;
    }

    /** Checked here, on this machine. */
    public ColocatedNode(String node, long pid, boolean alive, boolean answering, String address, Path log) {
        this(node, pid, alive, answering, address, log, Optional.empty());
    }

    /**
     * "healthy", "not answering" or "gone" (in JSON too: {@code db status --json} and the dashboard show it); for a
     * node other than this machine whose last report is not recent: "unknown".
     */
    @JsonProperty(value = "health", access = JsonProperty.Access.READ_ONLY)
    public String health() {
        if (reported.isPresent() && !alive) {
            return "unknown";
        }
        return answering ? "healthy" : alive ? "not answering" : "gone";
    }
}
