package io.smartsim.launch.status;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.nio.file.Path;

/**
 * One node's colocated database of a model ({@code Model.colocatedDatabases()}), as its directory and a PING say.
 *
 * @param node      the node's short host name
 * @param pid       the server's pid, as the wrapper recorded it
 * @param alive     whether that process runs (on this machine)
 * @param answering whether the server answered PING
 * @param address   where it was asked: {@code 127.0.0.1:PORT} or {@code unix:///path}
 * @param log       its log
 */
public record ColocatedNode(String node, long pid, boolean alive, boolean answering, String address, Path log) {
    /** "healthy", "not answering" or "gone" (in JSON too: {@code db status --json} and the dashboard show it). */
    @JsonProperty(value = "health", access = JsonProperty.Access.READ_ONLY)
    public String health() {
        return answering ? "healthy" : alive ? "not answering" : "gone";
    }
}
