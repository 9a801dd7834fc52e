package io.smartsim.launch.ai;

import java.util.concurrent.atomic.AtomicLong;

/** AI.INFO counters of one model or script key, kept in the front's memory as RedisAI keeps them in the module's. */
final class RunStats {
    /** "MODEL" or "SCRIPT", as AI.INFO says. */
    final String type;
    final String backend;
    final String device;
    final byte[] tag;
    final AtomicLong durationMicros = new AtomicLong();
    final AtomicLong samples = new AtomicLong();
    final AtomicLong calls = new AtomicLong();
    final AtomicLong errors = new AtomicLong();

    RunStats(String type, String backend, String device, byte[] tag) {
        this.type = type;
        this.backend = backend;
        this.device = device;
        this.tag = tag.clone();
    }

    void reset() {
        durationMicros.set(0);
        samples.set(0);
        calls.set(0);
        errors.set(0);
    }
}
