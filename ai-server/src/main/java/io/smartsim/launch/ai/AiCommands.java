package io.smartsim.launch.ai;

import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespOutput;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.spi.AiBackend;
import io.smartsim.launch.ai.spi.LoadedModel;
import io.smartsim.launch.ai.spi.ModelOptions;
import io.smartsim.launch.ai.spi.ModelTimeoutException;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The AI.* commands the front answers itself, with RedisAI 1.2's argument rules, reply shapes and error texts
 * (shared/notes/redisai.md; RedisAI's {@code src/redisai.c} and {@code src/execution/parsing/*.c}). Tensors and models
 * are read and written in the backing Redis through the calling client's own upstream connection, in the layouts of
 * {@link TensorCodec} and {@link ModelRecord}. Thread-safe: one instance serves every connection.
 */
public final class AiCommands {
    /** RedisAI's default MODEL_CHUNK_SIZE: 511 MiB. */
    public static final long DEFAULT_CHUNK_SIZE = 511L * 1024 * 1024;
    public static final String WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
    static final String TENSOR_EMPTY = "ERR tensor key is empty or in a different shard";
    static final String MODEL_EMPTY = "ERR model key is empty";
    /** The RedisAI version this front presents itself as, in AI.INFO. */
    static final String RAI_VERSION = "1.2.7";

    private final Backends backends;
    private final int intraOpThreads;
    private final ModelCache<LoadedModel> cache = new ModelCache<>();
    private final ConcurrentHashMap<ModelCache.Key, RunStats> stats = new ConcurrentHashMap<>();
    private final ScriptCommands scripts;
    private volatile long chunkSize = DEFAULT_CHUNK_SIZE;
    private volatile String backendsPath = "";

    public AiCommands(Backends backends, int intraOpThreads) {
        this.backends = backends;
        this.intraOpThreads = intraOpThreads;
        this.scripts = new ScriptCommands(backends, intraOpThreads, stats);
    }

    /** The commands handled here, upper-case; every other command goes to Redis unchanged. */
    public static boolean handles(String upperName) {
        return switch (upperName) {
            case "AI.TENSORSET", "AI.TENSORGET", "AI.MODELSTORE", "AI.MODELGET", "AI.MODELDEL", "AI.MODELEXECUTE",
                 "AI.INFO", "AI.CONFIG", "AI.SCRIPTSET", "AI.SCRIPTSTORE", "AI.SCRIPTGET", "AI.SCRIPTDEL",
                 "AI.SCRIPTRUN", "AI.SCRIPTEXECUTE" -> true;
            default -> false;
        };
    }

    /** Runs one AI command and writes its reply (an error reply for anything refused). */
    void execute(String name, byte[][] args, Upstream up, RespOutput client) throws IOException {
        try {
            switch (name) {
                case "AI.TENSORSET" -> tensorSet(args, up, client);
                case "AI.TENSORGET" -> tensorGet(args, up, client);
                case "AI.MODELSTORE" -> modelStore(args, up, client);
                case "AI.MODELGET" -> modelGet(args, up, client);
                case "AI.MODELDEL" -> modelDel(args, up, client);
                case "AI.MODELEXECUTE" -> modelExecute(args, up, client);
                case "AI.INFO" -> info(args, up, client);
                case "AI.CONFIG" -> config(args, client);
                case "AI.SCRIPTSET" -> scripts.scriptSet(args, up, client);
                case "AI.SCRIPTSTORE" -> scripts.scriptStore(args, up, client);
                case "AI.SCRIPTGET" -> scripts.scriptGet(args, up, client);
                case "AI.SCRIPTDEL" -> scripts.scriptDel(args, up, client);
                case "AI.SCRIPTRUN" -> scripts.scriptRun(args, up, client);
                case "AI.SCRIPTEXECUTE" -> scripts.scriptExecute(args, up, client);
                default -> throw new IllegalStateException("not an AI command this front handles: " + name);
            }
        } catch (AiException e) {
            client.error(e.getMessage());
        }
    }

    void close() {
        cache.closeAll();
        scripts.close();
    }

    // ---------------------------------------------------------------- tensors

    private void tensorSet(byte[][] a, Upstream up, RespOutput client) throws IOException {
        if (a.length < 4) {
            throw wrongArity(a);
        }
        Tensor t = parseTensor(a, 2);
        reply(up.call(b("SET"), a[1], TensorCodec.encode(t)), client);
    }

    /** Parses {@code <type> d0 d1 ... [BLOB b | VALUES v...]} starting at {@code at}, as RedisAI's ParseTensorSetArgs. */
    static Tensor parseTensor(byte[][] a, int at) {
        DType dtype = DType.parse(s(a[at])).orElseThrow(() -> new AiException("ERR invalid data type"));
        List<Long> dims = new ArrayList<>();
        long len = 1;
        int i = at + 1;
        for (; i < a.length; i++) {
            String opt = s(a[i]);
            if (opt.equalsIgnoreCase("BLOB")) {
                if (a.length - 1 - i != 1) {
                    throw new AiException("ERR a single binary string should come after the BLOB argument in "
                            + "'AI.TENSORSET' command");
                }
                long[] shape = toArray(dims);
                byte[] blob = a[i + 1];
                if (blob.length != len * dtype.size()) {
                    throw new AiException("ERR data length does not match tensor shape and type");
                }
                return new Tensor(dtype, shape, blob);
            }
            if (opt.equalsIgnoreCase("VALUES")) {
                if (a.length - 1 - i != len) {
                    throw new AiException("ERR wrong number of values was given in 'AI.TENSORSET' command");
                }
                return new Tensor(dtype, toArray(dims), values(dtype, a, i + 1, (int) len));
            }
            long d;
            try {
                d = Long.parseLong(opt);
            } catch (NumberFormatException e) {
                d = -1;
            }
            if (d <= 0) {
                throw new AiException("ERR invalid or negative value found in tensor shape");
            }
            dims.add(d);
            try {
                len = Math.multiplyExact(len, d);
            } catch (ArithmeticException e) {
                throw new AiException("ERR invalid or negative value found in tensor shape");
            }
            if (len * dtype.size() > Integer.MAX_VALUE - 64) {
                throw new AiException("ERR tensor of " + len + " elements is larger than 2 GiB");
            }
        }
        // No data: a tensor of zeros, as RedisAI creates.
        return new Tensor(dtype, toArray(dims), new byte[(int) (len * dtype.size())]);
    }

    private static byte[] values(DType t, byte[][] a, int from, int n) {
        ByteBuffer b = ByteBuffer.allocate(n * t.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            String v = s(a[from + i]);
            try {
                switch (t) {
                    case FLOAT -> b.putFloat((float) Double.parseDouble(v));
                    case DOUBLE -> b.putDouble(Double.parseDouble(v));
                    case INT8, UINT8 -> b.put((byte) Long.parseLong(v));
                    case INT16, UINT16 -> b.putShort((short) Long.parseLong(v));
                    case INT32 -> b.putInt((int) Long.parseLong(v));
                    case INT64 -> b.putLong(Long.parseLong(v));
                }
            } catch (NumberFormatException e) {
                throw new AiException("ERR invalid value");
            }
        }
        return b.array();
    }

    private void tensorGet(byte[][] a, Upstream up, RespOutput client) throws IOException {
        if (a.length < 2 || a.length > 4) {
            throw wrongArity(a);
        }
        Tensor t = readTensor(up.call(b("GET"), a[1]));
        boolean meta = false;
        boolean blob = false;
        boolean values = false;
        if (a.length == 2) {
            meta = true;
            blob = true;
        }
        for (int i = 2; i < a.length; i++) {
            switch (s(a[i]).toUpperCase(Locale.ROOT)) {
                case "BLOB" -> blob = true;
                case "VALUES" -> values = true;
                case "META" -> meta = true;
                default -> throw new AiException("ERR unsupported data format");
            }
        }
        if (blob && values) {
            throw new AiException("ERR both BLOB and VALUES specified");
        }
        // RedisAI's ReplyWithTensor: META alone is 4 elements, META with data 6; data alone is the bare value.
        if (meta) {
            client.arrayHeader(blob || values ? 6 : 4);
            client.bulk("dtype");
            client.bulk(t.dtype().name());
            client.bulk("shape");
            long[] shape = t.shape();
            client.arrayHeader(shape.length);
            for (long d : shape) {
                client.integer(d);
            }
        }
        if (blob) {
            if (meta) {
                client.bulk("blob");
            }
            client.bulk(t.data());
        } else if (values) {
            if (meta) {
                client.bulk("values");
            }
            writeValues(t, client);
        }
    }

    /** A GET reply as a tensor, or RedisAI's error: missing key, or a key that holds something else. */
    static Tensor readTensor(Object reply) {
        if (reply == null) {
            throw new AiException(TENSOR_EMPTY);
        }
        if (reply instanceof RespError e) {
            throw new AiException(e.text());
        }
        return TensorCodec.decode((byte[]) reply).orElseThrow(() -> new AiException(WRONGTYPE));
    }

    private static void writeValues(Tensor t, RespOutput client) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
        long n = t.elements();
        client.arrayHeader(n);
        for (long i = 0; i < n; i++) {
            switch (t.dtype()) {
                // RedisAI replies floats with ReplyWithDouble: a bulk string in RESP2, as Redis formats "%.17g".
                case FLOAT -> client.bulk(formatDouble(b.getFloat()));
                case DOUBLE -> client.bulk(formatDouble(b.getDouble()));
                case INT8 -> client.integer(b.get());
                case UINT8 -> client.integer(b.get() & 0xff);
                case INT16 -> client.integer(b.getShort());
                case UINT16 -> client.integer(b.getShort() & 0xffff);
                case INT32 -> client.integer(b.getInt());
                case INT64 -> client.integer(b.getLong());
            }
        }
    }

    /** C's {@code %.17g}, which Redis uses for doubles in RESP2. */
    static String formatDouble(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0" : "0";
        }
        BigDecimal v = new BigDecimal(d).round(new MathContext(17));
        int exp = v.precision() - v.scale() - 1;
        if (exp < -4 || exp >= 17) {
            BigDecimal mant = v.movePointLeft(exp).stripTrailingZeros();
            String m = mant.toPlainString();
            return m + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
        }
        return v.stripTrailingZeros().toPlainString();
    }

    // ---------------------------------------------------------------- models

    private void modelStore(byte[][] a, Upstream up, RespOutput client) throws IOException {
        if (a.length < 6) {
            throw wrongArity(a);
        }
        int i = 1;
        byte[] key = a[i++];
        String backendName = s(a[i++]).toUpperCase(Locale.ROOT);
        if (!Backends.KNOWN.contains(backendName)) {
            throw new AiException("ERR unsupported backend");
        }
        String device = s(a[i++]);
        if (!validDevice(device)) {
            throw new AiException("ERR Invalid DEVICE");
        }
        byte[] tag = new byte[0];
        if (i < a.length && is(a[i], "TAG")) {
            if (i + 1 >= a.length) {
                throw new AiException("ERR Insufficient arguments, missing model BLOB");
            }
            tag = a[i + 1];
            i += 2;
        }
        long batch = 0;
        long minBatch = 0;
        long minBatchTimeout = 0;
        if (i < a.length && is(a[i], "BATCHSIZE")) {
            if (backendName.equals("TFLITE")) {
                throw new AiException("ERR Auto-batching not supported by the TFLITE backend");
            }
            batch = unsigned(a, i + 1, "ERR Invalid argument for BATCHSIZE");
            i += 2;
        }
        if (i < a.length && is(a[i], "MINBATCHSIZE")) {
            if (batch == 0) {
                throw new AiException("ERR MINBATCHSIZE specified without BATCHSIZE");
            }
            minBatch = unsigned(a, i + 1, "ERR Invalid argument for MINBATCHSIZE");
            i += 2;
        }
        if (i < a.length && is(a[i], "MINBATCHTIMEOUT")) {
            if (minBatch == 0) {
                throw new AiException("ERR MINBATCHTIMEOUT specified without MINBATCHSIZE");
            }
            minBatchTimeout = unsigned(a, i + 1, "ERR Invalid argument for MINBATCHTIMEOUT");
            i += 2;
        }
        if (i >= a.length) {
            throw new AiException("ERR Insufficient arguments, missing model BLOB");
        }
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        boolean tf = backendName.equals("TF");
        if (tf) {
            i = names(a, i, "INPUTS", "ERR INPUTS not specified for TF", "input", inputs);
            i = names(a, i, "OUTPUTS", "ERR OUTPUTS not specified for TF", "output", outputs);
        } else if (is(a[i], "INPUTS")) {
            throw new AiException("ERR INPUTS argument should not be specified for this backend");
        }
        if (i >= a.length || !is(a[i], "BLOB")) {
            throw new AiException("ERR Invalid argument, expected BLOB");
        }
        i++;
        if (i >= a.length) {
            throw new AiException("ERR Insufficient arguments, missing model BLOB");
        }
        byte[] blob = join(a, i);
        AiBackend backend = backends.get(backendName)
                .orElseThrow(() -> new AiException("ERR Backend not loaded: " + backendName));
        LoadedModel model = backend.load(blob, new ModelOptions(device, inputs, outputs, intraOpThreads));
        boolean stored = false;
        try {
            checkModelOrEmpty(up, key);
            ModelRecord rec = new ModelRecord(UUID.randomUUID().toString(), backendName, device, tag, batch, minBatch,
                    minBatchTimeout, inputs, outputs);
            List<byte[]> hset = new ArrayList<>();
            hset.add(b("HSET"));
            hset.add(key);
            hset.addAll(rec.hsetArgs(blob));
            List<Object> r = up.pipeline(List.of(new byte[][] {b("MULTI")}, new byte[][] {b("DEL"), key},
                    hset.toArray(new byte[0][]), new byte[][] {b("EXEC")}));
            for (Object o : r) {
                if (o instanceof RespError e) {
                    throw new AiException(e.text());
                }
            }
            Object exec = r.get(3);
            if (exec instanceof List<?> results) {
                for (Object o : results) {
                    if (o instanceof RespError e) {
                        throw new AiException(e.text());
                    }
                }
            }
            cache.put(key, new ModelCache.Entry<>(rec.id(), model)).release();
            stored = true;
            stats.put(new ModelCache.Key(key), new RunStats("MODEL", backendName, device, tag));
            client.simple("OK");
        } finally {
            if (!stored) {
                model.close();
            }
        }
    }

    static boolean validDevice(String d) {
        String u = d.toUpperCase(Locale.ROOT);
        if (u.equals("CPU") || u.equals("GPU")) {
            return true;
        }
        return (u.startsWith("CPU:") || u.startsWith("GPU:")) && u.length() > 4 && u.length() <= 10
                && u.substring(4).chars().allMatch(Character::isDigit);
    }

    private static int names(byte[][] a, int i, String word, String missing, String what, List<String> into) {
        if (i >= a.length || !is(a[i], word)) {
            throw new AiException(missing);
        }
        long n = unsigned(a, i + 1, "ERR Invalid argument for " + what + "_count");
        if (n == 0) {
            throw new AiException("ERR Invalid argument for " + what + "_count");
        }
        i += 2;
        if (a.length - i < n) {
            throw new AiException("ERR number of model " + what + "s does not match the number of given arguments");
        }
        for (long k = 0; k < n; k++) {
            into.add(s(a[i++]));
        }
        return i;
    }

    private static byte[] join(byte[][] a, int from) {
        if (a.length - from == 1) {
            return a[from];
        }
        long total = 0;
        for (int k = from; k < a.length; k++) {
            total += a[k].length;
        }
        if (total > Integer.MAX_VALUE - 64) {
            throw new AiException("ERR model of " + total + " bytes is larger than 2 GiB");
        }
        byte[] out = new byte[(int) total];
        int off = 0;
        for (int k = from; k < a.length; k++) {
            System.arraycopy(a[k], 0, out, off, a[k].length);
            off += a[k].length;
        }
        return out;
    }

    /** Refuses to overwrite a key that holds something other than a model, as RedisAI's MODELSTORE does. */
    private static void checkModelOrEmpty(Upstream up, byte[] key) throws IOException {
        Object type = up.call(b("TYPE"), key);
        if (type instanceof RespSimple t && t.text().equals("none")) {
            return;
        }
        Object mark = up.call(b("HGET"), key, b("type"));
        if (!(mark instanceof byte[] m) || !ModelRecord.TYPE_MARK.equals(s(m))) {
            throw new AiException(WRONGTYPE);
        }
    }

    /** The stored model's metadata, or RedisAI's errors for a missing key or a key of another kind. */
    private static ModelRecord readModel(Upstream up, byte[] key) throws IOException {
        List<byte[][]> cmds = new ArrayList<>();
        List<byte[]> hmget = new ArrayList<>();
        hmget.add(b("HMGET"));
        hmget.add(key);
        ModelRecord.META_FIELDS.forEach(f -> hmget.add(b(f)));
        cmds.add(new byte[][] {b("EXISTS"), key});
        cmds.add(hmget.toArray(new byte[0][]));
        List<Object> r = up.pipeline(cmds);
        if (Long.valueOf(0).equals(r.get(0))) {
            throw new AiException(MODEL_EMPTY);
        }
        if (r.get(1) instanceof RespError) {
            throw new AiException(WRONGTYPE);
        }
        @SuppressWarnings("unchecked")
        List<Object> values = (List<Object>) r.get(1);
        return ModelRecord.fromMeta(values).orElseThrow(() -> new AiException(WRONGTYPE));
    }

    private void modelGet(byte[][] a, Upstream up, RespOutput client) throws IOException {
        if (a.length < 2 || a.length > 4) {
            throw wrongArity(a);
        }
        ModelRecord m = readModel(up, a[1]);
        boolean meta = a.length == 2;
        boolean blob = a.length == 2;
        for (int i = 2; i < a.length; i++) {
            if (is(a[i], "META")) {
                meta = true;
            } else if (is(a[i], "BLOB")) {
                blob = true;
            }
        }
        if (!meta && !blob) {
            throw new AiException("ERR no META or BLOB specified");
        }
        byte[] bytes = null;
        if (blob) {
            Object r = up.call(b("HGET"), a[1], b("blob"));
            if (!(r instanceof byte[] bb)) {
                throw new AiException(MODEL_EMPTY);
            }
            bytes = bb;
        }
        if (!meta) {
            // Always one bulk string: SmartRedis 0.6.1 mis-joins chunk arrays (shared/notes/redisai.md section 4).
            client.bulk(bytes);
            return;
        }
        client.arrayHeader(blob ? 18 : 16);
        client.bulk("backend");
        client.bulk(m.backend());
        client.bulk("device");
        client.bulk(m.device());
        client.bulk("tag");
        client.bulk(m.tag());
        client.bulk("batchsize");
        client.integer(m.batchSize());
        client.bulk("minbatchsize");
        client.integer(m.minBatchSize());
        client.bulk("inputs");
        client.arrayHeader(m.inputs().size());
        for (String n : m.inputs()) {
            client.bulk(n);
        }
        client.bulk("outputs");
        client.arrayHeader(m.outputs().size());
        for (String n : m.outputs()) {
            client.bulk(n);
        }
        client.bulk("minbatchtimeout");
        client.integer(m.minBatchTimeout());
        if (blob) {
            client.bulk("blob");
            client.bulk(bytes);
        }
    }

    private void modelDel(byte[][] a, Upstream up, RespOutput client) throws IOException {
        if (a.length != 2) {
            throw wrongArity(a);
        }
        readModel(up, a[1]);
        reply(up.call(b("DEL"), a[1]) instanceof RespError e ? e : new RespSimple("OK"), client);
        cache.remove(a[1]);
        stats.remove(new ModelCache.Key(a[1]));
    }

    private void modelExecute(byte[][] a, Upstream up, RespOutput client) throws IOException {
        if (a.length < 8) {
            throw new AiException("ERR wrong number of arguments for 'AI.MODELEXECUTE' command");
        }
        byte[] key = a[1];
        ModelRecord rec = readModel(up, key);
        // Argument checks in RedisAI's order (model_commands_parser.c), after the model was found.
        int i = 2;
        if (!is(a[i++], "INPUTS")) {
            throw new AiException("ERR INPUTS not specified");
        }
        long nin = count(a[i++], "ERR Invalid argument for input_count", "ERR Input count must be a positive integer");
        ModelCache.Entry<LoadedModel> entry = loaded(up, key, rec);
        try {
            LoadedModel model = entry.model;
            if (model.inputCount() >= 0 && model.inputCount() != nin) {
                throw new AiException("Number of keys given as INPUTS here does not match model definition");
            }
            if (i + nin > a.length) {
                throw new AiException("ERR number of input keys to AI.MODELEXECUTE command does not match the number "
                        + "of given arguments");
            }
            byte[][] inKeys = Arrays.copyOfRange(a, i, (int) (i + nin));
            i += (int) nin;
            if (i >= a.length || !is(a[i++], "OUTPUTS")) {
                throw new AiException("ERR OUTPUTS not specified");
            }
            if (i >= a.length) {
                throw new AiException("ERR Invalid argument for output_count");
            }
            long nout = count(a[i++], "ERR Invalid argument for output_count",
                    "ERR Output count must be a positive integer");
            if (model.outputCount() >= 0 && model.outputCount() != nout) {
                throw new AiException("Number of keys given as OUTPUTS here does not match model definition");
            }
            if (i + nout > a.length) {
                throw new AiException("ERR number of output keys to AI.MODELEXECUTE command does not match the number "
                        + "of given arguments");
            }
            byte[][] outKeys = Arrays.copyOfRange(a, i, (int) (i + nout));
            i += (int) nout;
            Duration timeout = null;
            if (i < a.length) {
                String opt = s(a[i++]);
                if (!opt.equalsIgnoreCase("TIMEOUT")) {
                    throw new AiException("Invalid argument: " + opt);
                }
                timeout = timeout(a, i++);
                if (i != a.length) {
                    throw new AiException("Invalid argument: " + s(a[i]));
                }
            }
            List<Tensor> inputs = readTensors(up, Arrays.asList(inKeys));
            RunStats st = stats.computeIfAbsent(new ModelCache.Key(key),
                    k -> new RunStats("MODEL", rec.backend(), rec.device(), rec.tag()));
            long start = System.nanoTime();
            List<Tensor> outputs;
            try {
                outputs = model.run(inputs, timeout);
            } catch (ModelTimeoutException e) {
                st.errors.incrementAndGet();
                client.simple("TIMEDOUT");
                return;
            } catch (AiException e) {
                st.errors.incrementAndGet();
                throw e;
            }
            if (outputs.size() != outKeys.length) {
                // A runtime that tells its output count only by running (libtorch) is checked here.
                st.errors.incrementAndGet();
                throw new AiException("Number of keys given as OUTPUTS here does not match model definition");
            }
            st.durationMicros.addAndGet((System.nanoTime() - start) / 1000);
            st.calls.incrementAndGet();
            long[] shape0 = inputs.get(0).shape();
            st.samples.addAndGet(shape0.length > 0 ? shape0[0] : 1);
            writeTensors(up, Arrays.asList(outKeys), outputs);
            client.simple("OK");
        } finally {
            entry.release();
        }
    }

    /** The tensors stored at {@code keys}, read in one pipelined round trip (models' and scripts' inputs). */
    static List<Tensor> readTensors(Upstream up, List<byte[]> keys) throws IOException {
        if (keys.isEmpty()) {
            return List.of();
        }
        List<byte[][]> gets = new ArrayList<>();
        for (byte[] k : keys) {
            gets.add(new byte[][] {b("GET"), k});
        }
        List<Tensor> out = new ArrayList<>();
        for (Object r : up.pipeline(gets)) {
            out.add(readTensor(r));
        }
        return out;
    }

    /** Stores {@code tensors} at {@code keys} in one pipelined round trip (models' and scripts' outputs). */
    static void writeTensors(Upstream up, List<byte[]> keys, List<Tensor> tensors) throws IOException {
        if (keys.isEmpty()) {
            return;
        }
        List<byte[][]> sets = new ArrayList<>();
        for (int k = 0; k < keys.size(); k++) {
            sets.add(new byte[][] {b("SET"), keys.get(k), TensorCodec.encode(tensors.get(k))});
        }
        for (Object r : up.pipeline(sets)) {
            if (r instanceof RespError e) {
                throw new AiException(e.text());
            }
        }
    }

    /** The loaded model for {@code rec}, from the cache or loaded now from the stored bytes; acquired. */
    private ModelCache.Entry<LoadedModel> loaded(Upstream up, byte[] key, ModelRecord rec) throws IOException {
        ModelCache.Entry<LoadedModel> e = cache.acquire(key, rec.id());
        if (e != null) {
            return e;
        }
        Object blob = up.call(b("HGET"), key, b("blob"));
        if (!(blob instanceof byte[] bytes)) {
            throw new AiException(MODEL_EMPTY);
        }
        AiBackend backend = backends.get(rec.backend())
                .orElseThrow(() -> new AiException("ERR Backend not loaded: " + rec.backend()));
        LoadedModel m = backend.load(bytes, new ModelOptions(rec.device(), rec.inputs(), rec.outputs(), intraOpThreads));
        return cache.put(key, new ModelCache.Entry<>(rec.id(), m));
    }

    /** The TIMEOUT value at {@code a[i]}, in ms, with RedisAI's texts when it is missing or not positive. */
    static Duration timeout(byte[][] a, int i) {
        if (i >= a.length) {
            throw new AiException("ERR No value provided for TIMEOUT");
        }
        long ms;
        try {
            ms = Long.parseLong(s(a[i]));
        } catch (NumberFormatException e) {
            ms = -1;
        }
        if (ms <= 0) {
            throw new AiException("ERR Invalid value for TIMEOUT");
        }
        return Duration.ofMillis(ms);
    }

    private static long count(byte[] arg, String notNumber, String notPositive) {
        long n;
        try {
            n = Long.parseLong(s(arg));
        } catch (NumberFormatException e) {
            throw new AiException(notNumber);
        }
        if (n <= 0) {
            throw new AiException(notPositive);
        }
        return n;
    }

    // ---------------------------------------------------------------- info and config

    private void info(byte[][] a, Upstream up, RespOutput client) throws IOException {
        if (a.length > 3) {
            throw wrongArity(a);
        }
        if (a.length == 1) {
            List<String> names = backends.names();
            client.arrayHeader(6 + 2L * names.size());
            client.simple("Version");
            client.bulk(RAI_VERSION);
            client.simple("Low Level API Version");
            client.bulk("1");
            client.simple("RDB Encoding version");
            client.bulk("1");
            for (String n : names) {
                client.simple(switch (n) {
                    case "TF" -> "TensorFlow version";
                    case "TORCH" -> "Torch version";
                    case "TFLITE" -> "TFLite version";
                    default -> "ONNX version";
                });
                client.simple(backends.get(n).map(AiBackend::version).orElse(""));
            }
            return;
        }
        ModelCache.Key k = new ModelCache.Key(a[1]);
        RunStats st = stats.get(k);
        if (st == null) {
            // Counters live in the front's memory; after a restart of the front a stored model starts from zero.
            try {
                ModelRecord rec = readModel(up, a[1]);
                st = stats.computeIfAbsent(k, x -> new RunStats("MODEL", rec.backend(), rec.device(), rec.tag()));
            } catch (AiException e) {
                try {
                    ScriptRecord rec = ScriptCommands.readScript(up, a[1]);
                    st = stats.computeIfAbsent(k, x -> new RunStats("SCRIPT", "TORCH", rec.device(), rec.tag()));
                } catch (AiException notScript) {
                    throw new AiException("ERR cannot find run info for key");
                }
            }
        }
        if (a.length == 3 && is(a[2], "RESETSTAT")) {
            st.reset();
            client.simple("OK");
            return;
        }
        client.arrayHeader(18);
        client.bulk("key");
        client.bulk(a[1]);
        client.bulk("type");
        client.bulk(st.type);
        client.bulk("backend");
        client.bulk(st.backend);
        client.bulk("device");
        client.bulk(st.device);
        client.bulk("tag");
        client.bulk(st.tag);
        client.bulk("duration");
        client.integer(st.durationMicros.get());
        client.bulk("samples");
        client.integer(st.samples.get());
        client.bulk("calls");
        client.integer(st.calls.get());
        client.bulk("errors");
        client.integer(st.errors.get());
    }

    private void config(byte[][] a, RespOutput client) throws IOException {
        if (a.length < 2) {
            throw wrongArity(a);
        }
        String sub = s(a[1]).toUpperCase(Locale.ROOT);
        switch (sub) {
            case "LOADBACKEND" -> {
                if (a.length < 4) {
                    throw wrongArity(a);
                }
                String name = s(a[2]).toUpperCase(Locale.ROOT);
                if (!Backends.KNOWN.contains(name)) {
                    throw new AiException("ERR unsupported backend");
                }
                // Backends are found on the class path at start; the library path RedisAI takes here is not used.
                if (backends.get(name).isEmpty()) {
                    throw new AiException("ERR error loading backend");
                }
                client.simple("OK");
            }
            case "BACKENDSPATH" -> {
                if (a.length < 3) {
                    throw new AiException("ERR BACKENDSPATH: missing path argument");
                }
                backendsPath = s(a[2]);
                client.simple("OK");
            }
            case "MODEL_CHUNK_SIZE" -> {
                if (a.length < 3) {
                    throw new AiException("ERR MODEL_CHUNK_SIZE: missing chunk size");
                }
                long n;
                try {
                    n = Long.parseLong(s(a[2]));
                } catch (NumberFormatException e) {
                    n = -1;
                }
                if (n <= 0) {
                    throw new AiException("ERR MODEL_CHUNK_SIZE: invalid chunk size");
                }
                chunkSize = n;
                client.simple("OK");
            }
            case "GET" -> {
                if (a.length < 3) {
                    throw wrongArity(a);
                }
                String what = s(a[2]).toUpperCase(Locale.ROOT);
                if (what.equals("MODEL_CHUNK_SIZE")) {
                    client.integer(chunkSize); // SmartRedis requires an integer here
                } else if (what.equals("BACKENDSPATH")) {
                    client.bulk(backendsPath);
                } else {
                    client.nil();
                }
            }
            default -> throw new AiException("ERR unsupported subcommand");
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void reply(Object upstreamReply, RespOutput client) throws IOException {
        client.value(upstreamReply);
    }

    static AiException wrongArity(byte[][] a) {
        return new AiException("ERR wrong number of arguments for '" + s(a[0]) + "' command");
    }

    private static long unsigned(byte[][] a, int i, String error) {
        if (i >= a.length) {
            throw new AiException(error);
        }
        try {
            long v = Long.parseLong(s(a[i]));
            if (v < 0) {
                throw new AiException(error);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new AiException(error);
        }
    }

    private static long[] toArray(List<Long> l) {
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = l.get(i);
        }
        return out;
    }

    static boolean is(byte[] arg, String word) {
        return s(arg).equalsIgnoreCase(word);
    }

    static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
