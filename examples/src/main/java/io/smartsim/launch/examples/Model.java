package io.smartsim.launch.examples;

import io.smartsim.launch.plan.Crc16;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.PipelineBase;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisException;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * A model that knows only its environment, as a SmartSim model does: {@code SSDB} says where the database is
 * (comma-separated {@code host:port}) and {@code SR_DB_TYPE} whether it is {@code Clustered} or
 * {@code Standalone}; {@code SSDB_USER} and {@code SSDB_PASSWORD}, when set, are who it logs in as (the launcher
 * sets them for every orchestrator with a password, the default), and {@code SSDB_TLS_CA}, when set, the CA it
 * trusts over TLS (an orchestrator started with {@code --tls}). It writes keys, reads them back, and prints which
 * shard holds how many.
 *
 * <pre>
 * SSDB=127.0.0.1:6780,127.0.0.1:6781,127.0.0.1:6782 SR_DB_TYPE=Clustered \
 *     java -cp ... io.smartsim.launch.examples.Model [--prefix key:] [--keys 10000]
 * </pre>
 *
 * Exit codes: 0 every value read back as written; 1 a value was wrong or the database failed;
 * 2 bad arguments or environment.
 */
public final class Model {
    public static final int OK = 0;
    public static final int MISMATCH = 1;
    public static final int USAGE = 2;

    static final String USAGE_LINE = "usage: SSDB=host:port[,host:port...] [SR_DB_TYPE=Clustered|Standalone] "
            + "Model [--prefix P] [--keys N]";
    private static final String EXAMPLE = "for example SSDB=127.0.0.1:6780,127.0.0.1:6781,127.0.0.1:6782";

    private Model() {
    }

    /**
     * Where the database is, what kind it is and who to log in as, as the environment says.
     *
     * @param user     {@code SSDB_USER}; empty for a database started with {@code --no-auth}
     * @param password {@code SSDB_PASSWORD}; present exactly when {@code user} is
     * @param tlsCa    {@code SSDB_TLS_CA}: the CA certificate (PEM) to trust, for a database started with
     *                 {@code --tls}; empty for plain text
     */
    public record Database(List<HostAndPort> addresses, boolean clustered, Optional<String> user,
                           Optional<String> password, Optional<Path> tlsCa) {
        public Database {
            addresses = List.copyOf(addresses);
            tlsCa = tlsCa == null ? Optional.empty() : tlsCa;
            if (user.isPresent() != password.isPresent()) {
                throw new IllegalArgumentException((user.isPresent() ? "SSDB_USER is set but SSDB_PASSWORD is not"
                        : "SSDB_PASSWORD is set but SSDB_USER is not") + "; the launcher sets both, or neither for a "
                        + "database without a password");
            }
        }

        public Database(List<HostAndPort> addresses, boolean clustered, Optional<String> user,
                        Optional<String> password) {
            this(addresses, clustered, user, password, Optional.empty());
        }

        public Database(List<HostAndPort> addresses, boolean clustered) {
            this(addresses, clustered, Optional.empty(), Optional.empty());
        }

        /** Reads {@code SSDB} and {@code SR_DB_TYPE}; without {@code SR_DB_TYPE}, more than one address means Clustered. */
        public static Database fromEnv(Map<String, String> env) {
            String ssdb = env.get("SSDB");
            if (ssdb == null || ssdb.isBlank()) {
                throw new IllegalArgumentException("SSDB is not set: the launcher puts the database addresses there; "
                        + EXAMPLE);
            }
            String[] entries = ssdb.split(",", -1);
            List<HostAndPort> addresses = new ArrayList<>();
            for (int i = 0; i < entries.length; i++) {
                addresses.add(parseAddress(entries[i], i + 1, entries.length));
            }
            Optional<String> user = nonBlank(env.get("SSDB_USER"));
            Optional<String> password = nonBlank(env.get("SSDB_PASSWORD"));
            Optional<Path> tlsCa = nonBlank(env.get("SSDB_TLS_CA")).map(Path::of);
            String type = env.get("SR_DB_TYPE");
            if (type == null || type.isBlank()) {
                return new Database(addresses, addresses.size() > 1, user, password, tlsCa);
            }
            return switch (type) {
                case "Clustered" -> new Database(addresses, true, user, password, tlsCa);
                case "Standalone" -> {
                    if (addresses.size() != 1) {
                        throw new IllegalArgumentException("SR_DB_TYPE=Standalone but SSDB lists " + addresses.size()
                                + " addresses (" + ssdb + "); a standalone database has exactly one");
                    }
                    yield new Database(addresses, false, user, password, tlsCa);
                }
                default -> throw new IllegalArgumentException("SR_DB_TYPE='" + type
                        + "' is neither Clustered nor Standalone");
            };
        }

        private static HostAndPort parseAddress(String entry, int n, int of) {
            String where = "SSDB entry " + n + " of " + of + " ('" + entry + "')";
            if (!entry.equals(entry.strip()) || entry.contains(" ")) {
                throw new IllegalArgumentException(where + " contains spaces; separate addresses with ',' only");
            }
            int colon = entry.lastIndexOf(':');
            if (colon < 1 || colon == entry.length() - 1) {
                throw new IllegalArgumentException(where + " is not host:port; " + EXAMPLE);
            }
            String host = entry.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1); // IPv6, written [::1]:6780
            }
            if (host.isEmpty() || host.contains(":") && !entry.startsWith("[")) {
                throw new IllegalArgumentException(where + " has no usable host (IPv6 goes in brackets: [::1]:6780); "
                        + EXAMPLE);
            }
            int port;
            try {
                port = Integer.parseInt(entry.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + " has no numeric port; " + EXAMPLE);
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException(where + " has port " + port + ", outside 1-65535");
            }
            return new HostAndPort(host, port);
        }

        private static Optional<String> nonBlank(String v) {
            return v == null || v.isBlank() ? Optional.empty() : Optional.of(v);
        }

        /**
         * How every connection logs in: as {@code SSDB_USER} when set (AUTH on connect), else not at all; over TLS
         * trusting only the CA in {@code SSDB_TLS_CA} when set.
         */
        JedisClientConfig clientConfig() {
            DefaultJedisClientConfig.Builder b = DefaultJedisClientConfig.builder();
            user.ifPresent(b::user);
            password.ifPresent(b::password);
            tlsCa.ifPresent(ca -> b.ssl(true).sslSocketFactory(trusting(ca)));
            return b.build();
        }

        /** A socket factory trusting the certificates in the PEM file {@code ca} and nothing else. */
        private static SSLSocketFactory trusting(Path ca) {
            try (InputStream in = Files.newInputStream(ca)) {
                KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
                trust.load(null, null);
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    trust.setCertificateEntry("ca" + i++, c);
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trust);
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(null, tmf.getTrustManagers(), null);
                return ctx.getSocketFactory();
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalArgumentException("SSDB_TLS_CA=" + ca + " is not a readable CA certificate (PEM): "
                        + e.getMessage());
            }
        }

        /** A client that routes each key to its shard (Clustered) or talks to the one server (Standalone). */
        UnifiedJedis connect() {
            return clustered ? new JedisCluster(new LinkedHashSet<>(addresses), clientConfig())
                    : new JedisPooled(addresses.get(0), clientConfig());
        }

        @Override
        public String toString() {
            return "Database[addresses=" + addresses + ", clustered=" + clustered + ", user=" + user.orElse("-")
                    + ", password=" + (password.isPresent() ? "<redacted>" : "-")
                    + tlsCa.map(ca -> ", tlsCa=" + ca).orElse("") + "]";
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, System.getenv(), System.out, System.err));
    }

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        String prefix = "key:";
        int keys = 10_000;
        Database db;
        try {
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--prefix" -> prefix = required(args[i], value);
                    case "--keys" -> keys = positive(args[i], required(args[i], value));
                    default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
                }
                i++;
            }
            db = Database.fromEnv(env);
        } catch (IllegalArgumentException e) {
            err.println("model: " + e.getMessage());
            err.println(USAGE_LINE);
            return USAGE;
        }
        long t0 = System.nanoTime();
        try (UnifiedJedis jedis = db.connect()) {
            String run = UUID.randomUUID().toString(); // so values left by an earlier run cannot pass the check
            try (PipelineBase p = jedis.pipelined()) {
                for (int i = 0; i < keys; i++) {
                    p.set(prefix + i, run + ":" + i);
                }
            }
            List<Response<String>> reads = new ArrayList<>(keys);
            try (PipelineBase p = jedis.pipelined()) {
                for (int i = 0; i < keys; i++) {
                    reads.add(p.get(prefix + i));
                }
            }
            for (int i = 0; i < keys; i++) {
                String expected = run + ":" + i;
                String got = reads.get(i).get();
                if (!expected.equals(got)) {
                    err.println("model: key '" + prefix + i + "' read back as '" + got + "', expected '" + expected + "'");
                    return MISMATCH;
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            List<Shard> shards = db.clustered() ? clusterShards(db) : List.of(
                    new Shard(db.addresses().get(0).toString(), List.of(new int[] {0, 16383})));
            int[] perShard = new int[shards.size()];
            for (int i = 0; i < keys; i++) {
                int slot = Crc16.slot(prefix + i);
                for (int s = 0; s < shards.size(); s++) {
                    if (shards.get(s).holds(slot)) {
                        perShard[s]++;
                    }
                }
            }
            out.printf("%-22s %-24s %8s%n", "shard", "slots", "keys");
            for (int s = 0; s < shards.size(); s++) {
                out.printf("%-22s %-24s %8d%n", shards.get(s).address(),
                        db.clustered() ? shards.get(s).slotText() : "(standalone)", perShard[s]);
            }
            out.printf("OK %d keys written and read back over %d shard%s in %.2f s%n", keys, shards.size(),
                    shards.size() == 1 ? "" : "s", seconds);
            return OK;
        } catch (JedisException e) {
            err.println("model: the database at " + env.get("SSDB") + " failed: " + e);
            return MISMATCH;
        } catch (IllegalArgumentException e) {
            err.println("model: " + e.getMessage()); // SSDB_TLS_CA unreadable
            return USAGE;
        }
    }

    /** One master and the slot ranges it serves. */
    record Shard(String address, List<int[]> slots) {
        boolean holds(int slot) {
            return slots.stream().anyMatch(r -> r[0] <= slot && slot <= r[1]);
        }

        String slotText() {
            return String.join(",", slots.stream().map(r -> r[0] + "-" + r[1]).toList());
        }
    }

    /**
     * The cluster's slot map from {@code CLUSTER SLOTS}: entries of [first slot, last slot, [master ip, port, id],
     * replicas...], grouped by master and ordered by their first slot.
     */
    static List<Shard> clusterShards(Database db) {
        Map<String, List<int[]>> byMaster = new HashMap<>();
        try (Jedis node = new Jedis(db.addresses().get(0), db.clientConfig())) {
            for (Object o : node.clusterSlots()) {
                List<?> entry = (List<?>) o;
                List<?> master = (List<?>) entry.get(2);
                String address = new String((byte[]) master.get(0), StandardCharsets.UTF_8) + ":" + master.get(1);
                byMaster.computeIfAbsent(address, a -> new ArrayList<>())
                        .add(new int[] {((Long) entry.get(0)).intValue(), ((Long) entry.get(1)).intValue()});
            }
        }
        return byMaster.entrySet().stream().map(e -> new Shard(e.getKey(), e.getValue()))
                .sorted(Comparator.comparingInt(s -> s.slots().stream().mapToInt(r -> r[0]).min().orElse(0))).toList();
    }

    private static String required(String flag, String value) {
        if (value == null || value.startsWith("--")) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return value;
    }

    private static int positive(String flag, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(flag + " '" + value + "' is not a positive whole number");
    }
}
