package io.smartsim.launch.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A small client in the spirit of SmartRedis, sending the same commands it sends (shared/notes/redisai.md), so what
 * it stores a SmartRedis client can read and the other way round. Standalone databases only in this version
 * ({@code SR_DB_TYPE=Standalone}); cluster support (CLUSTER SLOTS, per-shard model prefixes, input copies) is still
 * to come. One connection; not thread-safe: give each thread its own client.
 */
public final class Client implements AutoCloseable {
    /** SmartRedis's default SR_MODEL_TIMEOUT, in milliseconds. */
    public static final long DEFAULT_MODEL_TIMEOUT_MS = 60_000_000L;

    private final Connection conn;
    private final long modelTimeoutMs;

    private Client(Connection conn, long modelTimeoutMs) {
        this.conn = conn;
        this.modelTimeoutMs = modelTimeoutMs;
    }

    /**
     * Connects as SmartRedis does from its environment (SSDB, SR_DB_TYPE, SR_MODEL_TIMEOUT), and authenticates with
     * SSDB_USER and SSDB_PASSWORD when both are set (an orchestrator started with auth).
     */
    public static Client fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    public static Client fromEnvironment(Map<String, String> env) {
        String ssdb = env.get("SSDB");
        if (ssdb == null || ssdb.isBlank()) {
            throw new ClientException("SSDB is not set; it names the database as host:port[,host:port...]");
        }
        String type = env.getOrDefault("SR_DB_TYPE", "Clustered");
        if (!type.equalsIgnoreCase("Standalone")) {
            throw new ClientException("SR_DB_TYPE=" + type + ": this client speaks to standalone databases only so "
                    + "far; set SR_DB_TYPE=Standalone for a one-shard orchestrator");
        }
        String[] addresses = ssdb.split(",");
        String pick = addresses[ThreadLocalRandom.current().nextInt(addresses.length)].trim();
        long timeout = Long.parseLong(env.getOrDefault("SR_MODEL_TIMEOUT", Long.toString(DEFAULT_MODEL_TIMEOUT_MS)));
        String user = env.get("SSDB_USER");
        String password = env.get("SSDB_PASSWORD");
        return connect(pick, timeout, user == null || password == null ? null : new String[] {user, password});
    }

    /** Connects to "host:port" without authenticating and checks it answers PING. */
    public static Client connect(String address, long modelTimeoutMs) {
        return connect(address, modelTimeoutMs, null);
    }

    /**
     * Connects to "host:port", authenticates when {@code userAndPassword} is given (unlike SmartRedis, which never
     * sends AUTH), and checks it answers PING.
     */
    public static Client connect(String address, long modelTimeoutMs, String[] userAndPassword) {
        int colon = address.lastIndexOf(':');
        if (colon < 1) {
            throw new ClientException("'" + address + "' is not host:port");
        }
        try {
            Connection c = Connection.open(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)),
                    Duration.ofSeconds(10));
            if (userAndPassword != null) {
                c.call("AUTH", userAndPassword[0], userAndPassword[1]);
            }
            Object pong = c.call("PING");
            if (!(pong instanceof Connection.Status s) || !s.text().equals("PONG")) {
                c.close();
                throw new ClientException(address + " answered PING with " + pong);
            }
            return new Client(c, modelTimeoutMs);
        } catch (IOException e) {
            throw new ClientException("cannot reach the database at " + address + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------ tensors

    public void putTensor(String key, TensorData t) {
        List<Object> cmd = new ArrayList<>(List.of("AI.TENSORSET", key, t.type().name()));
        for (long d : t.shape()) {
            cmd.add(d);
        }
        cmd.add("BLOB");
        cmd.add(t.data());
        call(cmd.toArray());
    }

    public TensorData getTensor(String key) {
        List<?> r = (List<?>) call("AI.TENSORGET", key, "META", "BLOB");
        TensorType type = TensorType.valueOf(new String((byte[]) r.get(1), StandardCharsets.UTF_8));
        List<?> dims = (List<?>) r.get(3);
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = (Long) dims.get(i);
        }
        return new TensorData(type, shape, (byte[]) r.get(5));
    }

    public void deleteTensor(String key) {
        call("DEL", key);
    }

    public boolean keyExists(String key) {
        return ((Long) call("EXISTS", key)) > 0;
    }

    public boolean tensorExists(String key) {
        return keyExists(key);
    }

    /** Asks EXISTS up to {@code tries} times, {@code interval} apart, as SmartRedis's poll_key. */
    public boolean pollKey(String key, Duration interval, int tries) {
        for (int i = 0; i < tries; i++) {
            if (keyExists(key)) {
                return true;
            }
            try {
                Thread.sleep(interval.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ClientException("interrupted while polling for " + key, e);
            }
        }
        return false;
    }

    // ------------------------------------------------------------ models

    /** Stores a model, as SmartRedis's set_model: the chunk size first, then AI.MODELSTORE with the blob in chunks. */
    public void setModel(String key, byte[] model, String backend, String device) {
        long chunk = (Long) call("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE");
        List<Object> cmd = new ArrayList<>(List.of("AI.MODELSTORE", key, backend.toUpperCase(Locale.ROOT),
                device.toUpperCase(Locale.ROOT), "BLOB"));
        for (long off = 0; off < model.length; off += chunk) {
            cmd.add(Arrays.copyOfRange(model, (int) off, (int) Math.min(model.length, off + chunk)));
        }
        call(cmd.toArray());
    }

    public byte[] getModel(String key) {
        return (byte[]) call("AI.MODELGET", key, "BLOB");
    }

    public boolean modelExists(String key) {
        return keyExists(key);
    }

    /** Runs a stored model on tensors already in the database; throws if the run timed out. */
    public void runModel(String key, List<String> inputs, List<String> outputs) {
        List<Object> cmd = new ArrayList<>(List.of("AI.MODELEXECUTE", key, "INPUTS", inputs.size()));
        cmd.addAll(inputs);
        cmd.add("OUTPUTS");
        cmd.add(outputs.size());
        cmd.addAll(outputs);
        cmd.add("TIMEOUT");
        cmd.add(modelTimeoutMs);
        Object r = call(cmd.toArray());
        if (r instanceof Connection.Status s && s.text().equals("TIMEDOUT")) {
            // SmartRedis silently accepts this in standalone mode; here it is an error, since the outputs are stale.
            throw new ClientException("model " + key + " ran past its timeout of " + modelTimeoutMs + " ms");
        }
    }

    public void deleteModel(String key) {
        call("AI.MODELDEL", key);
    }

    private Object call(Object... args) {
        try {
            return conn.call(args);
        } catch (IOException e) {
            throw new ClientException("lost the database connection during " + args[0] + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            conn.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
