package io.smartsim.launch.entity;

import io.smartsim.launch.planned.Credentials;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The environment that tells a model where its databases are, as SmartSim's clients read it: {@code SSDB}
 * (comma-separated {@code host:port}) and {@code SR_DB_TYPE} ({@code Clustered} or {@code Standalone}) for the
 * first orchestrator, {@code SSDB_<id>} and {@code SR_DB_TYPE_<id>} for each other one. An orchestrator with a
 * password adds {@code SSDB_USER} and {@code SSDB_PASSWORD} (others: {@code SSDB_USER_<id>},
 * {@code SSDB_PASSWORD_<id>}). An orchestrator started with {@code --tls} adds {@code SSDB_TLS_CA} (others:
 * {@code SSDB_TLS_CA_<id>}): the path of the CA certificate (PEM) a client must trust to connect.
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
     * @param auth   the user to log in as; empty for an orchestrator without a password
     * @param tlsCa  the CA certificate to trust; empty for an orchestrator that speaks plain text
     */
    public record Database(String id, String ssdb, String dbType, Optional<Credentials> auth, Optional<Path> tlsCa) {
        public Database {
            auth = auth == null ? Optional.empty() : auth;
            tlsCa = tlsCa == null ? Optional.empty() : tlsCa;
        }

        /** A database that speaks plain text. */
        public Database(String id, String ssdb, String dbType, Optional<Credentials> auth) {
            this(id, ssdb, dbType, auth, Optional.empty());
        }

        /** A database without a password. */
        public Database(String id, String ssdb, String dbType) {
            this(id, ssdb, dbType, Optional.empty());
        }

        /** The same, its password replaced by {@link Credentials#REDACTED}: for dry runs and plans. */
        public Database redacted() {
            return new Database(id, ssdb, dbType, auth.map(Credentials::redacted), tlsCa);
        }
    }

    /** The variables, in order; the first database is the default one. Empty when there is none. */
    public static Map<String, String> variables(List<Database> primaryFirst) {
        Map<String, String> env = new LinkedHashMap<>();
        for (int i = 0; i < primaryFirst.size(); i++) {
            Database d = primaryFirst.get(i);
            String suffix = i == 0 ? "" : "_" + d.id();
            env.put("SSDB" + suffix, d.ssdb());
            env.put("SR_DB_TYPE" + suffix, d.dbType());
            d.auth().ifPresent(a -> {
                env.put("SSDB_USER" + suffix, a.user());
                env.put("SSDB_PASSWORD" + suffix, a.password());
            });
            d.tlsCa().ifPresent(ca -> env.put("SSDB_TLS_CA" + suffix, ca.toString()));
        }
        return env;
    }
}
