package io.smartsim.launch.spi;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * Where one shard landed, as recorded in the manifest.
 *
 * @param index        shard index in the plan
 * @param name         shard name
 * @param host         the address clients and other shards use (an IP address)
 * @param port         client port
 * @param pid          process id, where the launcher knows it
 * @param processStart the process's start time, to tell it from a later process that reuses the pid
 * @param handle       launcher-specific ids (job id, step id, node name), for status and stop
 */
public record LaunchedShard(int index, String name, String host, int port, Optional<Long> pid,
                            Optional<Instant> processStart, Map<String, String> handle) {
    public LaunchedShard {
        pid = pid == null ? Optional.empty() : pid;
        processStart = processStart == null ? Optional.empty() : processStart;
        handle = Map.copyOf(handle == null ? Map.of() : handle);
    }

    /** This shard with {@code entries} added to its handle (an entry of the same key replaced). */
    public LaunchedShard withHandleEntries(Map<String, String> entries) {
        Map<String, String> h = new java.util.LinkedHashMap<>(handle);
        h.putAll(entries);
        return new LaunchedShard(index, name, host, port, pid, processStart, h);
    }

    /** {@code host:port}, the form {@code SSDB} uses. */
    public String address() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
