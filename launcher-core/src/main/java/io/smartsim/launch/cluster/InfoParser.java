package io.smartsim.launch.cluster;

import java.util.LinkedHashMap;
import java.util.Map;

/** Parses the {@code field:value} replies of {@code INFO} and {@code CLUSTER INFO}. */
public final class InfoParser {
    private InfoParser() {
    }

    public static Map<String, String> parse(String reply) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String raw : reply.split("\r?\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon > 0) {
                out.put(line.substring(0, colon), line.substring(colon + 1));
            }
        }
        return out;
    }

    /** Keys of db0 from INFO keyspace ({@code db0:keys=12,expires=0,avg_ttl=0}); 0 when absent. */
    public static long keys(Map<String, String> info) {
        String db0 = info.get("db0");
        if (db0 == null) {
            return 0;
        }
        for (String part : db0.split(",")) {
            if (part.startsWith("keys=")) {
                return Long.parseLong(part.substring(5));
            }
        }
        return 0;
    }
}
