package io.smartsim.launch.status;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Instant;
import java.util.List;

/**
 * One shard's figures at one moment, as the collector records them (one JSON line each, see docs/telemetry.md) and
 * {@code Experiment.telemetry} returns the last of them ({@link TelemetryStatus}). A figure the shard did not report,
 * or every figure of a shard that did not answer, is null.
 *
 * @param time             when the sample was taken (the start of the {@code INFO} call)
 * @param experiment       experiment name
 * @param orchestrator     orchestrator id
 * @param shard            shard index in the plan
 * @param address          {@code host:port}
 * @param node             the node it runs on, as its launcher recorded it (a scheduler's node name, the local
 *                         launcher's short host name), else its host
 * @param reachable        whether it answered {@code INFO} within the call timeout
 * @param error            why not, for an unreachable shard
 * @param callMillis       how long the {@code INFO} call took (up to the timeout)
 * @param role             {@code master} or {@code slave}, as the shard says now
 * @param usedMemory       {@code used_memory}, bytes
 * @param peakMemory       {@code used_memory_peak}, bytes
 * @param keys             keys of db0
 * @param clients          {@code connected_clients} (the collector's own connection is one of them)
 * @param opsPerSec        {@code instantaneous_ops_per_sec}
 * @param hits             {@code keyspace_hits}, since the shard started
 * @param misses           {@code keyspace_misses}, since the shard started
 * @param netInBytes       {@code total_net_input_bytes}, since the shard started
 * @param netOutBytes      {@code total_net_output_bytes}, since the shard started
 * @param replOffset       the replication offset: {@code master_repl_offset} on a master, {@code slave_repl_offset} on
 *                         a replica
 * @param replLagSeconds   on a replica, seconds since it last heard from its master; on a master, the largest lag its
 *                         replicas report; null without replication
 * @param lastSave         {@code rdb_last_save_time}
 * @param changesSinceSave {@code rdb_changes_since_last_save}
 * @param models           with model serving ({@code --ai}), on a master: each model's and script's {@code AI.INFO},
 *                         at most the
 *                         collector's {@code MAX_MODELS_PER_SHARD} (100), sorted by key; absent (null, not written)
 *                         without {@code --ai}, on a replica, or when the shard did not answer
 * @param modelsTruncated  true when the shard has more models and scripts than were asked for; absent otherwise
 * @param modelsError      why the models could not be asked for (the shard answered {@code INFO} but not
 *                         {@code AI._LIST}); absent otherwise
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record ShardSample(Instant time, String experiment, String orchestrator, int shard, String address, String node,
                          boolean reachable, String error, long callMillis, String role, Long usedMemory,
                          Long peakMemory, Long keys, Long clients, Long opsPerSec, Long hits, Long misses,
                          Long netInBytes, Long netOutBytes, Long replOffset, Long replLagSeconds, Instant lastSave,
                          Long changesSinceSave,
                          @JsonInclude(JsonInclude.Include.NON_NULL) List<ModelSample> models,
                          @JsonInclude(JsonInclude.Include.NON_NULL) Boolean modelsTruncated,
                          @JsonInclude(JsonInclude.Include.NON_NULL) String modelsError) {

    public ShardSample {
        models = models == null ? null : List.copyOf(models);
    }

    /** A sample without model figures (no {@code --ai}). */
    public ShardSample(Instant time, String experiment, String orchestrator, int shard, String address, String node,
                       boolean reachable, String error, long callMillis, String role, Long usedMemory,
                       Long peakMemory, Long keys, Long clients, Long opsPerSec, Long hits, Long misses,
                       Long netInBytes, Long netOutBytes, Long replOffset, Long replLagSeconds, Instant lastSave,
                       Long changesSinceSave) {
        this(time, experiment, orchestrator, shard, address, node, reachable, error, callMillis, role, usedMemory,
                peakMemory, keys, clients, opsPerSec, hits, misses, netInBytes, netOutBytes, replOffset,
                replLagSeconds, lastSave, changesSinceSave, null, null, null);
    }

    /** This sample with the shard's model figures ({@code models} with {@code truncated}), or why they are missing. */
    public ShardSample withModels(List<ModelSample> models, Boolean truncated, String error) {
        return new ShardSample(time, experiment, orchestrator, shard, address, node, reachable, this.error, callMillis,
                role, usedMemory, peakMemory, keys, clients, opsPerSec, hits, misses, netInBytes, netOutBytes,
                replOffset, replLagSeconds, lastSave, changesSinceSave, models, truncated, error);
    }
}
