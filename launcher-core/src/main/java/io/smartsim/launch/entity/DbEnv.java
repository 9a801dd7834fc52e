package io.smartsim.launch.entity;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The environment that tells a model where its databases are, as SmartSim's clients read it: {@code SSDB}
 * (comma-separated {@code host:port}) and {@code SR_DB_TYPE} ({@code Clustered} or {@code Standalone}) for the
 * first orchestrator, {@code SSDB_<id>} and {@code SR_DB_TYPE_<id>} for each other one.
 */
public final class DbEnv {
    private DbEnv() {
    }

    /**
     * One running orchestrator.
     *
     * @param id     orchestrator id
     * @param ssdb   comma-separated {@code host:port}
     * @param dbType {@code Clustered} or {@code Standalone}
     */
    public record Database(String id, String ssdb, String dbType) {
    }

    /** The variables, in order; the first database is the default one. Empty when there is none. */
    public static Map<String, String> variables(List<Database> primaryFirst) {
        Map<String, String> env = new LinkedHashMap<>();
        for (int i = 0; i < primaryFirst.size(); i++) {
            Database d = primaryFirst.get(i);
            String suffix = i == 0 ? "" : "_" + d.id();
            env.put("SSDB" + suffix, d.ssdb());
            env.put("SR_DB_TYPE" + suffix, d.dbType());
        }
        return env;
    }
}
