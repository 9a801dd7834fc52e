package io.smartsim.launch.status;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One model's or script's counters on one shard at one moment, from {@code AI.INFO <key>} (see docs/telemetry.md):
 * kept in the shard's memory by the AI module since the key was stored (or its counters reset), so they are
 * counters that may go back to zero.
 *
 * @param key            the model or script key on this shard (SmartRedis's cluster keys carry the shard's prefix)
 * @param type           {@code MODEL} or {@code SCRIPT}
 * @param backend        {@code ONNX}, {@code TORCH}, {@code TF} or {@code TFLITE} (scripts: {@code TORCH})
 * @param device         as stored, e.g. {@code CPU}
 * @param calls          runs (model) or function calls (script) answered, failed ones included
 * @param errors         runs that failed or timed out
 * @param durationMicros the runtime's own time of the runs, summed, in microseconds
 * @param meanMicros     {@code durationMicros / calls}, null before the first call
 * @param samples        the runs' batch sizes summed (each run's first input's first dimension), so the mean batch
 *                       size is {@code samples / calls}
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record ModelSample(String key, String type, String backend, String device, long calls, long errors,
                          long durationMicros, Double meanMicros, long samples) {
}
