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
 * it stores a SmartRedis client can read and the other way round. Standalone ({@code SR_DB_TYPE=Standalone}) and
 * cluster (the default, {@code SR_DB_TYPE=Clustered}) databases: in a cluster it reads CLUSTER SLOTS once, routes each
 * key to its shard by CRC16, stores models on every shard under that shard's prefix ({@code {P}.key}) and copies a
 * run's inputs to the model's shard and its outputs back, as SmartRedis does. Not thread-safe: give each thread its
 * own client.
 */
public final class Client implements AutoCloseable {
    /** SmartRedis's default SR_MODEL_TIMEOUT, in milliseconds. */
    public static final long DEFAULT_MODEL_TIMEOUT_MS = 60_000_000L;

    private final Connection conn;
    private final ClusterMap cluster;
    private final long modelTimeoutMs;

    private Client(Connection conn, ClusterMap cluster, long modelTimeoutMs) {
        this.conn = conn;
        this.cluster = cluster;
        this.modelTimeoutMs = modelTimeoutMs;
    }

    /** Whether this client talks to a cluster (SR_DB_TYPE=Clustered). */
    public boolean clustered() {
        return cluster != null;
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
        boolean clustered;
        if (type.equals("Clustered")) {
            clustered = true;
        } else if (type.equals("Standalone")) {
            clustered = false;
        } else {
            throw new ClientException("SR_DB_TYPE=" + type + " is neither Clustered nor Standalone (the two values "
                    + "SmartRedis knows); `smartsim-launch db env` prints the right one for an orchestrator");
        }
        String[] addresses = ssdb.split(",");
        String pick = addresses[ThreadLocalRandom.current().nextInt(addresses.length)].trim();
        long timeout = Long.parseLong(env.getOrDefault("SR_MODEL_TIMEOUT", Long.toString(DEFAULT_MODEL_TIMEOUT_MS)));
        String user = env.get("SSDB_USER");
        String password = env.get("SSDB_PASSWORD");
        String[] login = user == null || password == null ? null : new String[] {user, password};
        return clustered ? connectCluster(pick, timeout, login) : connect(pick, timeout, login);
    }

    /**
     * Connects to a cluster through one of its nodes ("host:port"), reads CLUSTER SLOTS, and authenticates each shard
     * connection when {@code userAndPassword} is given.
     */
    public static Client connectCluster(String address, long modelTimeoutMs, String[] userAndPassword) {
        int colon = address.lastIndexOf(':');
        if (colon < 1) {
            throw new ClientException("'" + address + "' is not host:port");
        }
        String host = address.substring(0, colon);
        int port = Integer.parseInt(address.substring(colon + 1));
        try {
            Connection c = Connection.open(host, port, Duration.ofSeconds(10));
            if (userAndPassword != null) {
                c.call("AUTH", userAndPassword[0], userAndPassword[1]);
            }
            return new Client(null, ClusterMap.discover(c, host, port, Duration.ofSeconds(10), userAndPassword),
                    modelTimeoutMs);
        } catch (IOException e) {
            throw new ClientException("cannot reach the database at " + address + ": " + e.getMessage(), e);
        }
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
            return new Client(c, null, modelTimeoutMs);
        } catch (IOException e) {
            throw new ClientException("cannot reach the database at " + address + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------ tensors

    public void putTensor(String key, TensorData t) {
        putTensor(bytes(key), t);
    }

    private void putTensor(byte[] key, TensorData t) {
        callKey(key, tensorSet(key, t).toArray());
    }

    private static List<Object> tensorSet(byte[] key, TensorData t) {
        List<Object> cmd = new ArrayList<>(List.of("AI.TENSORSET", key, t.type().name()));
        for (long d : t.shape()) {
            cmd.add(d);
        }
        cmd.add("BLOB");
        cmd.add(t.data());
        return cmd;
    }

    public TensorData getTensor(String key) {
        return getTensor(bytes(key));
    }

    private TensorData getTensor(byte[] key) {
        return tensor((List<?>) callKey(key, "AI.TENSORGET", key, "META", "BLOB"));
    }

    /** An AI.TENSORGET META BLOB reply, read by position as SmartRedis does. */
    private static TensorData tensor(List<?> r) {
        TensorType type = TensorType.valueOf(new String((byte[]) r.get(1), StandardCharsets.UTF_8));
        List<?> dims = (List<?>) r.get(3);
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = (Long) dims.get(i);
        }
        return new TensorData(type, shape, (byte[]) r.get(5));
    }

    /** DEL standalone, UNLINK in a cluster, as SmartRedis. */
    public void deleteTensor(String key) {
        byte[] k = bytes(key);
        callKey(k, cluster == null ? "DEL" : "UNLINK", k);
    }

    public boolean keyExists(String key) {
        byte[] k = bytes(key);
        return ((Long) callKey(k, "EXISTS", k)) > 0;
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

    /** SmartRedis's poll_tensor: EXISTS on the tensor's key, as pollKey. */
    public boolean pollTensor(String key, Duration interval, int tries) {
        return poll(() -> tensorExists(key), key, interval, tries);
    }

    private static boolean poll(java.util.function.BooleanSupplier test, String what, Duration interval, int tries) {
        for (int i = 0; i < tries; i++) {
            if (test.getAsBoolean()) {
                return true;
            }
            if (i + 1 < tries) {
                try {
                    Thread.sleep(interval.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ClientException("interrupted while polling for " + what, e);
                }
            }
        }
        return false;
    }

    // ------------------------------------------------------------ datasets

    private static byte[] metaKey(String name) {
        return bytes("{" + name + "}.meta");
    }

    private static byte[] tensorKey(String dataset, String tensor) {
        return bytes("{" + dataset + "}." + tensor);
    }

    /**
     * Stores a dataset as SmartRedis's put_dataset, in one pipeline on the shard of {@code {name}}: {@code DEL
     * {name}.meta}, {@code HMSET {name}.meta} with every metadata field, one {@code AI.TENSORSET {name}.<tensor>} per
     * tensor, then {@code HSET {name}.meta .COMPLETE 1}, which readers poll for.
     */
    public void putDataset(Dataset ds) {
        Map<String, byte[]> meta = ds.encodedMeta();
        if (meta.isEmpty()) {
            throw new ClientException("dataset " + ds.name() + " holds no tensors and no metadata; SmartRedis refuses "
                    + "to store an empty dataset too");
        }
        byte[] mk = metaKey(ds.name());
        List<Object[]> cmds = new ArrayList<>();
        cmds.add(new Object[] {"DEL", mk});
        List<Object> hmset = new ArrayList<>(List.of("HMSET", mk));
        meta.forEach((f, v) -> {
            hmset.add(f);
            hmset.add(v);
        });
        cmds.add(hmset.toArray());
        ds.tensorMap().forEach((n, t) -> cmds.add(tensorSet(tensorKey(ds.name(), n), t).toArray()));
        cmds.add(new Object[] {"HSET", mk, ".COMPLETE", "1"});
        pipelineKey(mk, cmds);
    }

    /**
     * Reads a dataset as SmartRedis's get_dataset: {@code HGETALL {name}.meta} (empty: no such dataset), then one
     * pipeline of {@code AI.TENSORGET {name}.<tensor> META BLOB} for the tensors {@code .tensor_names} lists.
     */
    public Dataset getDataset(String name) {
        byte[] mk = metaKey(name);
        Dataset ds = readMeta(name, mk);
        List<String> names = ds.encodedMeta().containsKey(Dataset.TENSOR_NAMES)
                ? ds.getMetaStringsInternal() : List.of();
        if (!names.isEmpty()) {
            List<Object[]> cmds = new ArrayList<>();
            for (String t : names) {
                cmds.add(new Object[] {"AI.TENSORGET", tensorKey(name, t), "META", "BLOB"});
            }
            List<Object> replies = pipelineKey(mk, cmds);
            for (int i = 0; i < names.size(); i++) {
                ds.putTensorRead(names.get(i), tensor((List<?>) replies.get(i)));
            }
        }
        return ds;
    }

    private Dataset readMeta(String name, byte[] mk) {
        List<?> all = (List<?>) callKey(mk, "HGETALL", mk);
        if (all.isEmpty()) {
            throw new ClientException("dataset " + name + " does not exist (no hash {" + name + "}.meta)");
        }
        Dataset ds = new Dataset(name);
        for (int i = 0; i + 1 < all.size(); i += 2) {
            String field = new String((byte[]) all.get(i), StandardCharsets.UTF_8);
            if (!field.equals(".COMPLETE")) {
                ds.putEncoded(field, (byte[]) all.get(i + 1));
            }
        }
        return ds;
    }

    /** SmartRedis's dataset_exists: {@code HEXISTS {name}.meta .COMPLETE}, true once a put_dataset finished. */
    public boolean datasetExists(String name) {
        byte[] mk = metaKey(name);
        return ((Long) callKey(mk, "HEXISTS", mk, ".COMPLETE")) > 0;
    }

    /** Asks datasetExists up to {@code tries} times, {@code interval} apart. */
    public boolean pollDataset(String name, Duration interval, int tries) {
        return poll(() -> datasetExists(name), name, interval, tries);
    }

    /** As SmartRedis's delete_dataset: HGETALL for the tensor names, then one DEL of the hash and every tensor. */
    public void deleteDataset(String name) {
        byte[] mk = metaKey(name);
        Dataset ds = readMeta(name, mk);
        List<Object> del = new ArrayList<>(List.of("DEL", mk));
        if (ds.encodedMeta().containsKey(Dataset.TENSOR_NAMES)) {
            for (String t : ds.getMetaStringsInternal()) {
                del.add(tensorKey(name, t));
            }
        }
        callKey(mk, del.toArray());
    }

    // ------------------------------------------------------------ models

    /**
     * Stores a model, as SmartRedis's set_model: the chunk size first, then AI.MODELSTORE with the blob in chunks; in a
     * cluster, on every shard under its prefix.
     */
    public void setModel(String key, byte[] model, String backend, String device) {
        setModel(key, model, backend, device, List.of(), List.of());
    }

    /**
     * As {@link #setModel(String, byte[], String, String)}, naming the graph's input and output nodes, which a TF model
     * needs ({@code INPUTS n ... OUTPUTS m ...}, sent only when given, as SmartRedis).
     */
    public void setModel(String key, byte[] model, String backend, String device, List<String> inputs,
                         List<String> outputs) {
        long chunk = (Long) (cluster == null ? call("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")
                : callOn(cluster.shards.get(0), "AI.CONFIG", "GET", "MODEL_CHUNK_SIZE"));
        List<Object> rest = new ArrayList<>(List.of(backend.toUpperCase(Locale.ROOT), device.toUpperCase(Locale.ROOT)));
        if (!inputs.isEmpty()) {
            rest.add("INPUTS");
            rest.add(inputs.size());
            rest.addAll(inputs);
        }
        if (!outputs.isEmpty()) {
            rest.add("OUTPUTS");
            rest.add(outputs.size());
            rest.addAll(outputs);
        }
        rest.add("BLOB");
        for (long off = 0; off < model.length; off += chunk) {
            rest.add(Arrays.copyOfRange(model, (int) off, (int) Math.min(model.length, off + chunk)));
        }
        if (cluster == null) {
            List<Object> cmd = new ArrayList<>(List.of("AI.MODELSTORE", key));
            cmd.addAll(rest);
            call(cmd.toArray());
            return;
        }
        for (ClusterMap.Shard s : cluster.shards) {
            List<Object> cmd = new ArrayList<>(List.of("AI.MODELSTORE", s.key(key)));
            cmd.addAll(rest);
            callOn(s, cmd.toArray());
        }
    }

    /** The model's bytes; in a cluster, the copy on the shard with the lowest slots. */
    public byte[] getModel(String key) {
        if (cluster == null) {
            return (byte[]) call("AI.MODELGET", key, "BLOB");
        }
        ClusterMap.Shard first = cluster.shards.get(0);
        return (byte[]) callOn(first, "AI.MODELGET", first.key(key), "BLOB");
    }

    public boolean modelExists(String key) {
        if (cluster == null) {
            return keyExists(key);
        }
        ClusterMap.Shard first = cluster.shards.get(0);
        return ((Long) callOn(first, "EXISTS", first.key(key))) > 0;
    }

    /** Asks modelExists up to {@code tries} times, {@code interval} apart, as SmartRedis's poll_model. */
    public boolean pollModel(String key, Duration interval, int tries) {
        return poll(() -> modelExists(key), key, interval, tries);
    }

    /**
     * Runs a stored model on tensors already in the database; throws if the run timed out. In a cluster, as SmartRedis:
     * the shard S owning the first input runs it; each input is copied to {@code {S}.in.TMP}, the outputs are written to
     * {@code {S}.out.TMP} and copied to their own keys, then the temporaries are deleted.
     */
    public void runModel(String key, List<String> inputs, List<String> outputs) {
        run(key, inputs, outputs, this::execute);
    }

    private interface RunCommand {
        List<Object> build(byte[] key, List<byte[]> inputs, List<byte[]> outputs);
    }

    private void run(String key, List<String> inputs, List<String> outputs, RunCommand command) {
        if (inputs.isEmpty()) {
            throw new ClientException("a run of " + key + " needs at least one input");
        }
        if (cluster == null) {
            checkRun(key, call(command.build(bytes(key), inputs.stream().map(Client::bytes).toList(),
                    outputs.stream().map(Client::bytes).toList()).toArray()));
            return;
        }
        ClusterMap.Shard s = cluster.owner(bytes(inputs.get(0)));
        List<byte[]> ins = new ArrayList<>();
        List<byte[]> outs = new ArrayList<>();
        for (String in : inputs) {
            byte[] tmp = s.key(in + ".TMP");
            putTensor(tmp, getTensor(bytes(in)));
            ins.add(tmp);
        }
        for (String out : outputs) {
            outs.add(s.key(out + ".TMP"));
        }
        checkRun(key, callOn(s, command.build(s.key(key), ins, outs).toArray()));
        for (int i = 0; i < outputs.size(); i++) {
            putTensor(bytes(outputs.get(i)), getTensor(outs.get(i)));
        }
        List<Object> del = new ArrayList<>(List.of("DEL"));
        del.addAll(outs);
        del.addAll(ins);
        callOn(s, del.toArray());
    }

    private List<Object> execute(byte[] key, List<byte[]> inputs, List<byte[]> outputs) {
        List<Object> cmd = new ArrayList<>(List.of("AI.MODELEXECUTE", key, "INPUTS", inputs.size()));
        cmd.addAll(inputs);
        cmd.add("OUTPUTS");
        cmd.add(outputs.size());
        cmd.addAll(outputs);
        cmd.add("TIMEOUT");
        cmd.add(modelTimeoutMs);
        return cmd;
    }

    private void checkRun(String key, Object r) {
        if (r instanceof Connection.Status s && s.text().equals("TIMEDOUT")) {
            // SmartRedis silently accepts this in standalone mode; here it is an error, since the outputs are stale.
            throw new ClientException("model " + key + " ran past its timeout of " + modelTimeoutMs + " ms");
        }
    }

    /** Deletes the model; in a cluster, its copy on every shard. */
    public void deleteModel(String key) {
        if (cluster == null) {
            call("AI.MODELDEL", key);
            return;
        }
        for (ClusterMap.Shard s : cluster.shards) {
            callOn(s, "AI.MODELDEL", s.key(key));
        }
    }

    // ------------------------------------------------------------ scripts

    /**
     * Stores a TorchScript script as SmartRedis's set_script: {@code AI.SCRIPTSET key device SOURCE text} (the form
     * SmartRedis 0.6.1 sends); in a cluster, on every shard under its prefix.
     */
    public void setScript(String key, String device, String source) {
        String dev = device.toUpperCase(Locale.ROOT);
        if (cluster == null) {
            call("AI.SCRIPTSET", key, dev, "SOURCE", source);
            return;
        }
        for (ClusterMap.Shard s : cluster.shards) {
            callOn(s, "AI.SCRIPTSET", s.key(key), dev, "SOURCE", source);
        }
    }

    public void setScriptFromFile(String key, String device, java.nio.file.Path file) {
        try {
            setScript(key, device, java.nio.file.Files.readString(file));
        } catch (IOException e) {
            throw new ClientException("cannot read the script " + file + ": " + e.getMessage(), e);
        }
    }

    /** The script's source; in a cluster, of the copy on the shard with the lowest slots. */
    public String getScript(String key) {
        Object r;
        if (cluster == null) {
            r = call("AI.SCRIPTGET", key, "SOURCE");
        } else {
            ClusterMap.Shard first = cluster.shards.get(0);
            r = callOn(first, "AI.SCRIPTGET", first.key(key), "SOURCE");
        }
        return new String((byte[]) r, StandardCharsets.UTF_8);
    }

    /**
     * Runs {@code function} of a stored script as SmartRedis's run_script: {@code AI.SCRIPTRUN key fn INPUTS i1 ...
     * OUTPUTS o1 ...} (the form SmartRedis 0.6.1 sends: no counts, no TIMEOUT); in a cluster with the same copies of
     * inputs and outputs as runModel.
     */
    public void runScript(String key, String function, List<String> inputs, List<String> outputs) {
        run(key, inputs, outputs, (k, ins, outs) -> {
            List<Object> cmd = new ArrayList<>(List.of("AI.SCRIPTRUN", k, function, "INPUTS"));
            cmd.addAll(ins);
            cmd.add("OUTPUTS");
            cmd.addAll(outs);
            return cmd;
        });
    }

    /** Deletes the script; in a cluster, its copy on every shard. */
    public void deleteScript(String key) {
        if (cluster == null) {
            call("AI.SCRIPTDEL", key);
            return;
        }
        for (ClusterMap.Shard s : cluster.shards) {
            callOn(s, "AI.SCRIPTDEL", s.key(key));
        }
    }

    private static byte[] bytes(String key) {
        return key.getBytes(StandardCharsets.UTF_8);
    }

    /** Sends a command naming {@code key} to the shard that owns it (the one connection when standalone). */
    private Object callKey(byte[] key, Object... args) {
        return cluster == null ? call(args) : callOn(cluster.owner(key), args);
    }

    /** Sends a pipeline whose keys all hash like {@code key} to the shard that owns it. */
    private List<Object> pipelineKey(byte[] key, List<Object[]> cmds) {
        ClusterMap.Shard s = cluster == null ? null : cluster.owner(key);
        try {
            return s == null ? requireConn().pipeline(cmds) : cluster.connection(s).pipeline(cmds);
        } catch (IOException e) {
            throw new ClientException("lost the database connection during a pipeline of " + cmds.size()
                    + " commands: " + e.getMessage(), e);
        }
    }

    private Connection requireConn() {
        if (conn == null) {
            throw new IllegalStateException("a cluster client sends every command to a shard");
        }
        return conn;
    }

    private Object callOn(ClusterMap.Shard s, Object... args) {
        try {
            return cluster.connection(s).call(args);
        } catch (IOException e) {
            throw new ClientException("lost the connection to shard " + s.host + ":" + s.port + " during " + args[0]
                    + ": " + e.getMessage(), e);
        }
    }

    private Object call(Object... args) {
        if (conn == null) {
            throw new IllegalStateException("a cluster client sends every command to a shard");
        }
        try {
            return conn.call(args);
        } catch (IOException e) {
            throw new ClientException("lost the database connection during " + args[0] + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (cluster != null) {
            cluster.close();
            return;
        }
        try {
            conn.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
