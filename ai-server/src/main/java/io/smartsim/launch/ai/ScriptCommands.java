package io.smartsim.launch.ai;

import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespOutput;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.spi.AiBackend;
import io.smartsim.launch.ai.spi.LoadedScript;
import io.smartsim.launch.ai.spi.ModelOptions;
import io.smartsim.launch.ai.spi.ModelTimeoutException;
import io.smartsim.launch.ai.spi.ScriptArg;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static io.smartsim.launch.ai.AiCommands.b;
import static io.smartsim.launch.ai.AiCommands.is;
import static io.smartsim.launch.ai.AiCommands.s;

/**
 * AI.SCRIPTSET / SCRIPTSTORE / SCRIPTGET / SCRIPTDEL / SCRIPTRUN / SCRIPTEXECUTE with RedisAI 1.2's argument rules and
 * texts (RedisAI's {@code src/execution/parsing/deprecated.c} for SCRIPTSET and SCRIPTRUN, which SmartRedis sends).
 * Scripts are TorchScript source, compiled by the TORCH backend; they are stored as {@link ScriptRecord} hashes in the
 * backing Redis and kept compiled in memory by key, as models are.
 */
final class ScriptCommands {
    static final String SCRIPT_EMPTY = "ERR script key is empty";
    static final String MISSING_SOURCE = "ERR Insufficient arguments, missing script SOURCE";

    private final Backends backends;
    private final int intraOpThreads;
    private final ConcurrentHashMap<ModelCache.Key, RunStats> stats;
    private final ModelCache<LoadedScript> cache = new ModelCache<>();

    ScriptCommands(Backends backends, int intraOpThreads, ConcurrentHashMap<ModelCache.Key, RunStats> stats) {
        this.backends = backends;
        this.intraOpThreads = intraOpThreads;
        this.stats = stats;
    }

    void close() {
        cache.closeAll();
    }

    /** {@code AI.SCRIPTSET key device [TAG tag] SOURCE text}: the deprecated form SmartRedis sends. */
    void scriptSet(byte[][] a, Upstream up, RespOutput client) throws IOException {
        if (a.length != 5 && a.length != 7) {
            throw AiCommands.wrongArity(a);
        }
        int i = 3;
        byte[] tag = new byte[0];
        if (is(a[i], "TAG")) {
            tag = a[i + 1];
            i += 2;
        }
        if (i >= a.length || !is(a[i], "SOURCE") || i + 1 >= a.length) {
            throw new AiException(MISSING_SOURCE);
        }
        store(a[1], s(a[2]), tag, List.of(), a[i + 1], up, client);
    }

    /** {@code AI.SCRIPTSTORE key device [TAG tag] ENTRY_POINTS n fn... SOURCE text} (RedisAI 1.2.7). */
    void scriptStore(byte[][] a, Upstream up, RespOutput client) throws IOException {
        if (a.length < 7) {
            throw AiCommands.wrongArity(a);
        }
        int i = 3;
        byte[] tag = new byte[0];
        if (is(a[i], "TAG")) {
            tag = a[i + 1];
            i += 2;
        }
        if (i >= a.length || !is(a[i], "ENTRY_POINTS")) {
            throw new AiException("ERR Insufficient arguments, missing script entry points");
        }
        long n;
        try {
            n = Long.parseLong(s(a[i + 1]));
        } catch (RuntimeException e) {
            n = -1;
        }
        if (n <= 0 || i + 2 + n > a.length) {
            throw new AiException("ERR Non-valid number of entry points");
        }
        List<String> entryPoints = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            entryPoints.add(s(a[i + 2 + k]));
        }
        i += 2 + (int) n;
        if (i + 1 >= a.length || !is(a[i], "SOURCE")) {
            throw new AiException(MISSING_SOURCE);
        }
        store(a[1], s(a[2]), tag, entryPoints, a[i + 1], up, client);
    }

    private void store(byte[] key, String device, byte[] tag, List<String> entryPoints, byte[] source, Upstream up,
                       RespOutput client) throws IOException {
        if (!AiCommands.validDevice(device)) {
            throw new AiException("ERR Invalid DEVICE");
        }
        LoadedScript script = compile(source, device);
        boolean stored = false;
        try {
            for (String e : entryPoints) {
                if (!script.functions().contains(e)) {
                    throw new AiException("ERR entry point '" + e + "' is not a function of the script");
                }
            }
            Object type = up.call(b("TYPE"), key);
            if (!(type instanceof RespSimple t && t.text().equals("none"))) {
                Object mark = up.call(b("HGET"), key, b("type"));
                if (!(mark instanceof byte[] m) || !ScriptRecord.TYPE_MARK.equals(s(m))) {
                    throw new AiException(AiCommands.WRONGTYPE);
                }
            }
            ScriptRecord rec = new ScriptRecord(UUID.randomUUID().toString(), device, tag, entryPoints);
            List<byte[]> hset = new ArrayList<>();
            hset.add(b("HSET"));
            hset.add(key);
            hset.addAll(rec.hsetArgs(source));
            List<Object> r = up.pipeline(List.of(new byte[][] {b("MULTI")}, new byte[][] {b("DEL"), key},
                    hset.toArray(new byte[0][]), new byte[][] {b("EXEC")}));
            for (Object o : r) {
                if (o instanceof RespError e) {
                    throw new AiException(e.text());
                }
            }
            if (r.get(3) instanceof List<?> results) {
                for (Object o : results) {
                    if (o instanceof RespError e) {
                        throw new AiException(e.text());
                    }
                }
            }
            cache.put(key, new ModelCache.Entry<>(rec.id(), script)).release();
            stored = true;
            stats.put(new ModelCache.Key(key), new RunStats("SCRIPT", "TORCH", device, tag));
            client.simple("OK");
        } finally {
            if (!stored) {
                script.close();
            }
        }
    }

    private LoadedScript compile(byte[] source, String device) {
        AiBackend torch = backends.get("TORCH").orElseThrow(() -> new AiException("ERR Backend not loaded: TORCH"));
        return torch.loadScript(new String(source, StandardCharsets.UTF_8),
                new ModelOptions(device, List.of(), List.of(), intraOpThreads));
    }

    /** {@code AI.SCRIPTGET key [META] [SOURCE]}: SOURCE alone is the bare source, as SmartRedis reads it. */
    void scriptGet(byte[][] a, Upstream up, RespOutput client) throws IOException {
        if (a.length < 2 || a.length > 4) {
            throw AiCommands.wrongArity(a);
        }
        ScriptRecord rec = readScript(up, a[1]);
        boolean meta = a.length == 2;
        boolean source = a.length == 2;
        for (int i = 2; i < a.length; i++) {
            if (is(a[i], "META")) {
                meta = true;
            } else if (is(a[i], "SOURCE")) {
                source = true;
            } else {
                throw new AiException("ERR unrecognized parameter " + s(a[i]));
            }
        }
        byte[] text = null;
        if (source) {
            Object r = up.call(b("HGET"), a[1], b("source"));
            if (!(r instanceof byte[] bytes)) {
                throw new AiException(SCRIPT_EMPTY);
            }
            text = bytes;
        }
        if (!meta) {
            client.bulk(text);
            return;
        }
        client.arrayHeader(source ? 8 : 6);
        client.bulk("device");
        client.bulk(rec.device());
        client.bulk("tag");
        client.bulk(rec.tag());
        client.bulk("entry_points");
        client.arrayHeader(rec.entryPoints().size());
        for (String e : rec.entryPoints()) {
            client.bulk(e);
        }
        if (source) {
            client.bulk("source");
            client.bulk(text);
        }
    }

    void scriptDel(byte[][] a, Upstream up, RespOutput client) throws IOException {
        if (a.length != 2) {
            throw AiCommands.wrongArity(a);
        }
        readScript(up, a[1]);
        Object r = up.call(b("DEL"), a[1]);
        client.value(r instanceof RespError e ? e : new RespSimple("OK"));
        cache.remove(a[1]);
        stats.remove(new ModelCache.Key(a[1]));
    }

    /**
     * {@code AI.SCRIPTRUN key fn INPUTS i... [$ i...] OUTPUTS o... [TIMEOUT ms]}: the deprecated form SmartRedis
     * sends. Each input is one tensor argument; those after {@code $} go together as one List[Tensor] argument.
     */
    void scriptRun(byte[][] a, Upstream up, RespOutput client) throws IOException {
        if (a.length < 3) {
            throw new AiException("ERR wrong number of arguments for 'AI.SCRIPTRUN' command");
        }
        ScriptRecord rec = readScript(up, a[1]);
        String fn = function(a[2]);
        boolean isInput = false;
        boolean isOutput = false;
        boolean inputsDone = false;
        Duration timeout = null;
        int variadicStart = -1;
        List<byte[]> inKeys = new ArrayList<>();
        List<byte[]> outKeys = new ArrayList<>();
        for (int i = 3; i < a.length; i++) {
            String arg = s(a[i]);
            if (arg.equalsIgnoreCase("TIMEOUT")) {
                if (timeout != null) {
                    throw new AiException("ERR Already encountered an TIMEOUT section in SCRIPTRUN");
                }
                timeout = AiCommands.timeout(a, ++i);
            } else if (arg.equalsIgnoreCase("INPUTS")) {
                if (inputsDone) {
                    throw new AiException("ERR Already encountered an INPUTS section in SCRIPTRUN");
                }
                if (isInput) {
                    throw new AiException("ERR Already encountered an INPUTS keyword in SCRIPTRUN");
                }
                isInput = true;
                isOutput = false;
            } else if (arg.equalsIgnoreCase("OUTPUTS")) {
                if (isOutput) {
                    throw new AiException("ERR Already encountered an OUTPUTS keyword in SCRIPTRUN");
                }
                isInput = false;
                isOutput = true;
                inputsDone = true;
            } else if (arg.equals("$")) {
                if (!isInput) {
                    throw new AiException("ERR Encountered a variable size list of tensors outside of input section");
                }
                if (variadicStart >= 0) {
                    throw new AiException("ERR Already encountered a variable size list of tensors");
                }
                variadicStart = inKeys.size();
            } else if (isInput) {
                inKeys.add(a[i]);
            } else if (isOutput) {
                outKeys.add(a[i]);
            } else {
                throw new AiException("ERR Unrecongnized parameter to SCRIPTRUN"); // sic, RedisAI's text
            }
        }
        List<Tensor> inputs = AiCommands.readTensors(up, inKeys);
        List<ScriptArg> args = new ArrayList<>();
        int fixed = variadicStart < 0 ? inputs.size() : variadicStart;
        for (int k = 0; k < fixed; k++) {
            args.add(new ScriptArg.One(inputs.get(k)));
        }
        if (variadicStart >= 0) {
            args.add(new ScriptArg.Tensors(inputs.subList(variadicStart, inputs.size())));
        }
        run(a[1], rec, fn, args, outKeys, timeout, up, client);
    }

    /**
     * {@code AI.SCRIPTEXECUTE key fn [KEYS n k...] [INPUTS n i...] [ARGS n a...] [OUTPUTS n o...] [TIMEOUT ms]}
     * (RedisAI 1.2.7): the function is called as {@code fn(tensors: List[Tensor], keys: List[str], args: List[str])}.
     */
    void scriptExecute(byte[][] a, Upstream up, RespOutput client) throws IOException {
        if (a.length < 3) {
            throw new AiException("ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command");
        }
        ScriptRecord rec = readScript(up, a[1]);
        String fn = function(a[2]);
        List<byte[]> keys = null;
        List<byte[]> inKeys = null;
        List<byte[]> argv = null;
        List<byte[]> outKeys = null;
        Duration timeout = null;
        int i = 3;
        while (i < a.length) {
            String word = s(a[i]).toUpperCase(java.util.Locale.ROOT);
            if (word.equals("TIMEOUT")) {
                timeout = AiCommands.timeout(a, i + 1);
                if (i + 2 != a.length) {
                    throw new AiException("ERR Encountered problem parsing AI.SCRIPTEXECUTE");
                }
                break;
            }
            String what = switch (word) {
                case "KEYS" -> "key";
                case "INPUTS" -> "input";
                case "ARGS" -> "arg";
                case "OUTPUTS" -> "output";
                default -> throw new AiException("ERR Unrecongnized parameter to AI.SCRIPTEXECUTE"); // sic
            };
            boolean seen = switch (word) {
                case "KEYS" -> keys != null;
                case "INPUTS" -> inKeys != null;
                case "ARGS" -> argv != null;
                default -> outKeys != null;
            };
            if (seen) {
                throw new AiException("ERR Already Encountered " + word + " scope in AI.SCRIPTEXECUTE command");
            }
            if (i + 1 >= a.length) {
                throw new AiException("ERR Invalid argument for " + what + " count in AI.SCRIPTEXECUTE");
            }
            long n;
            try {
                n = Long.parseLong(s(a[i + 1]));
            } catch (NumberFormatException e) {
                throw new AiException("ERR Invalid argument for " + what + " count in AI.SCRIPTEXECUTE");
            }
            if (n < 0 || i + 2 + n > a.length) {
                throw new AiException("ERR number of " + what + "s to AI.SCRIPTEXECUTE command does not match the "
                        + "number of given arguments");
            }
            List<byte[]> list = new ArrayList<>();
            for (int k = 0; k < n; k++) {
                list.add(a[i + 2 + k]);
            }
            switch (word) {
                case "KEYS" -> keys = list;
                case "INPUTS" -> inKeys = list;
                case "ARGS" -> argv = list;
                default -> outKeys = list;
            }
            i += 2 + (int) n;
        }
        List<Tensor> inputs = AiCommands.readTensors(up, inKeys == null ? List.of() : inKeys);
        List<ScriptArg> args = List.of(new ScriptArg.Tensors(inputs), new ScriptArg.Strings(strings(keys)),
                new ScriptArg.Strings(strings(argv)));
        run(a[1], rec, fn, args, outKeys == null ? List.of() : outKeys, timeout, up, client);
    }

    private static List<String> strings(List<byte[]> l) {
        List<String> out = new ArrayList<>();
        if (l != null) {
            l.forEach(x -> out.add(s(x)));
        }
        return out;
    }

    private static String function(byte[] arg) {
        String fn = s(arg);
        if (fn.equalsIgnoreCase("TIMEOUT") || fn.equalsIgnoreCase("INPUTS") || fn.equalsIgnoreCase("OUTPUTS")) {
            throw new AiException("ERR function name not specified");
        }
        return fn;
    }

    private void run(byte[] key, ScriptRecord rec, String fn, List<ScriptArg> args, List<byte[]> outKeys,
                     Duration timeout, Upstream up, RespOutput client) throws IOException {
        ModelCache.Entry<LoadedScript> entry = loaded(up, key, rec);
        try {
            LoadedScript script = entry.model;
            if (!script.functions().contains(fn)) {
                throw new AiException("ERR Function does not exist: " + fn);
            }
            RunStats st = stats.computeIfAbsent(new ModelCache.Key(key),
                    k -> new RunStats("SCRIPT", "TORCH", rec.device(), rec.tag()));
            long start = System.nanoTime();
            List<Tensor> outputs;
            try {
                outputs = script.run(fn, args, timeout);
                if (outputs.size() != outKeys.size()) {
                    throw new AiException("ERR Function returned unexpected number of outputs: " + outputs.size()
                            + " returned, " + outKeys.size() + " OUTPUTS keys given");
                }
            } catch (ModelTimeoutException e) {
                st.errors.incrementAndGet();
                client.simple("TIMEDOUT");
                return;
            } catch (AiException e) {
                st.errors.incrementAndGet();
                throw e;
            }
            st.durationMicros.addAndGet((System.nanoTime() - start) / 1000);
            st.calls.incrementAndGet();
            AiCommands.writeTensors(up, outKeys, outputs);
            client.simple("OK");
        } finally {
            entry.release();
        }
    }

    private ModelCache.Entry<LoadedScript> loaded(Upstream up, byte[] key, ScriptRecord rec) throws IOException {
        ModelCache.Entry<LoadedScript> e = cache.acquire(key, rec.id());
        if (e != null) {
            return e;
        }
        Object source = up.call(b("HGET"), key, b("source"));
        if (!(source instanceof byte[] bytes)) {
            throw new AiException(SCRIPT_EMPTY);
        }
        return cache.put(key, new ModelCache.Entry<>(rec.id(), compile(bytes, rec.device())));
    }

    /** The stored script's metadata, or RedisAI's errors for a missing key or a key of another kind. */
    static ScriptRecord readScript(Upstream up, byte[] key) throws IOException {
        List<byte[]> hmget = new ArrayList<>();
        hmget.add(b("HMGET"));
        hmget.add(key);
        ScriptRecord.META_FIELDS.forEach(f -> hmget.add(b(f)));
        List<Object> r = up.pipeline(List.of(new byte[][] {b("EXISTS"), key}, hmget.toArray(new byte[0][])));
        if (Long.valueOf(0).equals(r.get(0))) {
            throw new AiException(SCRIPT_EMPTY);
        }
        if (r.get(1) instanceof RespError) {
            throw new AiException(AiCommands.WRONGTYPE);
        }
        @SuppressWarnings("unchecked")
        List<Object> values = (List<Object>) r.get(1);
        return ScriptRecord.fromMeta(values).orElseThrow(() -> new AiException(AiCommands.WRONGTYPE));
    }
}
