package io.smartsim.launch.telemetry;

import io.smartsim.launch.status.ModelSample;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Turns an {@code AI.INFO <key>} reply (name, value, name, value, ...) into a {@link ModelSample}: pure. */
final class AiInfo {
    private AiInfo() {
    }

    /**
     * The sample, or an {@link IllegalArgumentException} naming what is missing when the reply is not the module's
     * 18 elements (key, type, backend, device, tag, duration, samples, calls, errors).
     */
    static ModelSample of(Object reply) {
        if (!(reply instanceof List<?> list) || list.size() % 2 != 0) {
            throw new IllegalArgumentException("AI.INFO answered " + describe(reply) + ", not name/value pairs");
        }
        Map<String, Object> f = new HashMap<>();
        for (int i = 0; i < list.size(); i += 2) {
            f.put(text(list.get(i)), list.get(i + 1));
        }
        long calls = number(f, "calls");
        long duration = number(f, "duration");
        return new ModelSample(string(f, "key"), string(f, "type"), string(f, "backend"), string(f, "device"), calls,
                number(f, "errors"), duration, calls == 0 ? null : (double) duration / calls, number(f, "samples"));
    }

    private static String string(Map<String, Object> f, String name) {
        Object v = f.get(name);
        if (v == null) {
            throw new IllegalArgumentException("AI.INFO's reply has no " + name);
        }
        return text(v);
    }

    private static long number(Map<String, Object> f, String name) {
        Object v = f.get(name);
        if (v instanceof Long l) {
            return l;
        }
        try {
            return Long.parseLong(string(f, name));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("AI.INFO's " + name + " is not a number: " + text(v));
        }
    }

    private static String text(Object v) {
        return v instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(v);
    }

    private static String describe(Object reply) {
        return reply instanceof List<?> l ? "an array of " + l.size() : String.valueOf(reply);
    }
}
