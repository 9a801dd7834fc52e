package io.smartsim.launch.ai.modelserver;

import io.smartsim.launch.ai.AiException;
import io.smartsim.launch.ai.Backends;
import io.smartsim.launch.ai.Tensor;
import io.smartsim.launch.ai.TensorCodec;
import io.smartsim.launch.ai.spi.AiBackend;
import io.smartsim.launch.ai.spi.LoadedModel;
import io.smartsim.launch.ai.spi.LoadedScript;
import io.smartsim.launch.ai.spi.ModelOptions;
import io.smartsim.launch.ai.spi.ModelTimeoutException;
import io.smartsim.launch.ai.spi.ScriptArg;

import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The model server beside one redis-server with the smartsim-ai module: it holds the loaded models and runs them for
 * the module, over a Unix domain socket, with the small binary protocol described in docs/ai.md ("The module ↔ model
 * server protocol"). It knows nothing of Redis: the module stores the model bytes in the keyspace, reads the inputs
 * and writes the outputs; this only loads (by the model's id) and runs.
 *
 * <p>Each connection is served by its own thread, one request after the other.
 */
public final class ModelServer implements Closeable {
    /** Request opcodes. */
    static final byte LOAD = 'L';
    static final byte RUN = 'R';
    static final byte DROP = 'D';
    static final byte SCRIPT_LOAD = 'S';
    static final byte SCRIPT_RUN = 'X';
    static final byte VERSIONS = 'V';
    static final byte BATCH_COUNTS = 'Q';
    /** Script run argument kinds: one tensor, a List[Tensor], a List[str]. */
    static final byte ARG_TENSOR = 'T';
    static final byte ARG_TENSORS = 'L';
    static final byte ARG_STRINGS = 'S';
    /** Reply status bytes. */
    static final byte OK = 'K';
    static final byte ERROR = 'E';
    /** An error of the run itself (the runtime refused the inputs or failed): counted in AI.INFO's errors. */
    static final byte RUN_ERROR = 'F';
    static final byte TIMEDOUT = 'T';
    static final byte UNKNOWN = 'U';
    /** A frame larger than this is refused (a model is below 2 GiB, as AI.MODELSTORE checks). */
    static final int MAX_FRAME = Integer.MAX_VALUE - 64;

    private final Backends backends;
    private final Path socket;
    /** Threads one operator of a model or script may use (ModelOptions.intraOpThreads); 0: the runtime chooses. */
    private final int intraOpThreads;
    private final ServerSocketChannel server;
    private final Map<String, LoadedModel> models = new ConcurrentHashMap<>();
    private final Map<String, LoadedScript> scripts = new ConcurrentHashMap<>();
    /** The auto-batching of the models stored with BATCHSIZE, by id. */
    private final Map<String, Batcher> batchers = new ConcurrentHashMap<>();
    private final List<SocketChannel> connections = new ArrayList<>();
    private volatile boolean closed;

    private ModelServer(Backends backends, Path socket, int intraOpThreads, ServerSocketChannel server) {
        this.backends = backends;
        this.socket = socket;
        this.intraOpThreads = intraOpThreads;
        this.server = server;
    }

    /**
     * Loads the runtime of every backend given (so that no first call pays for it) and listens on {@code socket}
     * (a stale socket file there is replaced). The runtime chooses how many threads an operator uses.
     */
    public static ModelServer start(Backends backends, Path socket) throws IOException {
        return start(backends, socket, 0);
    }

    /**
     * As {@link #start(Backends, Path)}, with every model and script loaded to use at most {@code intraOpThreads}
     * threads per operator ({@code --ai-threads}; 0: the runtime chooses).
     */
    public static ModelServer start(Backends backends, Path socket, int intraOpThreads) throws IOException {
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intraOpThreads " + intraOpThreads + " is negative; use 0 for the "
                    + "runtime's choice");
        }
        for (String name : backends.names()) {
            backends.get(name).orElseThrow().warmUp();
        }
        Files.deleteIfExists(socket);
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        ch.bind(UnixDomainSocketAddress.of(socket));
        ModelServer s = new ModelServer(backends, socket, intraOpThreads, ch);
        Thread t = new Thread(s::acceptLoop, "model-server-accept");
        t.setDaemon(true);
        t.start();
        return s;
    }

    public Path socket() {
        return socket;
    }

    /** How many models are loaded now. */
    public int loadedModels() {
        return models.size();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                SocketChannel c = server.accept();
                synchronized (connections) {
                    connections.add(c);
                }
                Thread t = new Thread(() -> serve(c), "model-server-conn");
                t.setDaemon(true);
                t.start();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("model server: accept failed: " + e);
                }
            }
        }
    }

    private void serve(SocketChannel c) {
        try (c) {
            ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            while (true) {
                len.clear();
                if (!readFully(c, len)) {
                    return;
                }
                int n = len.getInt(0);
                if (n < 1 || n > MAX_FRAME) {
                    return; // not our protocol: drop the connection
                }
                ByteBuffer req = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
                if (!readFully(c, req)) {
                    return;
                }
                req.flip();
                ByteBuffer reply = handle(req);
                reply.flip();
                while (reply.hasRemaining()) {
                    c.write(reply);
                }
            }
        } catch (IOException e) {
            // the module went away; its next connection starts afresh
        } finally {
            synchronized (connections) {
                connections.remove(c);
            }
        }
    }

    private static boolean readFully(SocketChannel c, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (c.read(b) < 0) {
                return false;
            }
        }
        return true;
    }

    /** One request to its reply frame (length prefix included). Public for the protocol's unit test. */
    ByteBuffer handle(ByteBuffer req) {
        try {
            byte op = req.get();
            return switch (op) {
                case LOAD -> load(req);
                case RUN -> run(req);
                case SCRIPT_LOAD -> scriptLoad(req);
                case SCRIPT_RUN -> scriptRun(req);
                case VERSIONS -> versions();
                case BATCH_COUNTS -> {
                    Batcher b = batchers.get(str(req));
                    yield frame(1 + 16).put(OK).putLong(b == null ? 0 : b.runs.get())
                            .putLong(b == null ? 0 : b.requests.get());
                }
                case DROP -> {
                    String id = str(req);
                    Batcher b = batchers.remove(id);
                    if (b != null) {
                        b.close();
                    }
                    LoadedModel m = models.remove(id);
                    if (m != null) {
                        m.close();
                    }
                    LoadedScript sc = scripts.remove(id);
                    if (sc != null) {
                        sc.close();
                    }
                    yield status(OK);
                }
                default -> error("ERR model server: unknown request " + (op & 0xff));
            };
        } catch (AiException e) {
            return error(e.getMessage());
        } catch (RuntimeException e) {
            return error("ERR model server: malformed request (" + e + ")");
        }
    }

    private ByteBuffer load(ByteBuffer req) {
        String id = str(req);
        String backendName = str(req);
        String device = str(req);
        List<String> inputs = names(req);
        List<String> outputs = names(req);
        byte[] blob = bytes(req);
        // BATCHSIZE, MINBATCHSIZE, MINBATCHTIMEOUT (a module before auto-batching sent none)
        int batch = req.remaining() >= 12 ? req.getInt() : 0;
        int minBatch = batch > 0 ? req.getInt() : 0;
        int minBatchTimeout = batch > 0 ? req.getInt() : 0;
        AiBackend backend = backends.get(backendName)
                .orElseThrow(() -> new AiException("ERR Backend not loaded: " + backendName));
        LoadedModel m = backend.load(blob, new ModelOptions(device, inputs, outputs, intraOpThreads));
        Batcher oldBatcher = batch > 0 ? batchers.put(id, new Batcher(id, m, batch, minBatch, minBatchTimeout))
                : batchers.remove(id);
        if (oldBatcher != null) {
            oldBatcher.close();
        }
        LoadedModel old = models.put(id, m);
        if (old != null) {
            old.close();
        }
        return status(OK);
    }

    /** The loaded backends and their runtimes' versions, in the order given at start (for AI.INFO without a key). */
    private ByteBuffer versions() {
        List<byte[]> fields = new ArrayList<>();
        for (String name : backends.names()) {
            fields.add(name.getBytes(StandardCharsets.UTF_8));
            fields.add(backends.get(name).map(AiBackend::version).orElse("").getBytes(StandardCharsets.UTF_8));
        }
        int total = 1 + 4;
        for (byte[] f : fields) {
            total += 4 + f.length;
        }
        ByteBuffer out = frame(total);
        out.put(OK).putInt(fields.size() / 2);
        for (byte[] f : fields) {
            out.putInt(f.length).put(f);
        }
        return out;
    }

    /** Compiles a script (TORCH) and checks its entry points, with RedisAI's texts. */
    private ByteBuffer scriptLoad(ByteBuffer req) {
        String id = str(req);
        String device = str(req);
        List<String> entryPoints = names(req);
        String source = str(req);
        AiBackend torch = backends.get("TORCH").orElseThrow(() -> new AiException("ERR Backend not loaded: TORCH"));
        LoadedScript sc = torch.loadScript(source, new ModelOptions(device, List.of(), List.of(), intraOpThreads));
        for (String e : entryPoints) {
            if (!sc.functions().contains(e)) {
                sc.close();
                throw new AiException("ERR entry point '" + e + "' is not a function of the script");
            }
        }
        LoadedScript old = scripts.put(id, sc);
        if (old != null) {
            old.close();
        }
        return status(OK);
    }

    /** Calls a script function; the answers of a model run ('F' for the call's own failure). */
    private ByteBuffer scriptRun(ByteBuffer req) {
        String id = str(req);
        String fn = str(req);
        int timeoutMs = req.getInt();
        int nout = req.getInt();
        int nargs = req.getInt();
        List<ScriptArg> args = new ArrayList<>(nargs);
        for (int k = 0; k < nargs; k++) {
            byte kind = req.get();
            switch (kind) {
                case ARG_TENSOR -> args.add(new ScriptArg.One(tensor(req)));
                case ARG_TENSORS -> {
                    int n = req.getInt();
                    List<Tensor> ts = new ArrayList<>(n);
                    for (int t = 0; t < n; t++) {
                        ts.add(tensor(req));
                    }
                    args.add(new ScriptArg.Tensors(ts));
                }
                case ARG_STRINGS -> args.add(new ScriptArg.Strings(names(req)));
                default -> throw new IllegalArgumentException("argument kind " + (kind & 0xff));
            }
        }
        LoadedScript sc = scripts.get(id);
        if (sc == null) {
            return status(UNKNOWN);
        }
        if (!sc.functions().contains(fn)) {
            throw new AiException("ERR Function does not exist: " + fn);
        }
        List<Tensor> outputs;
        long start = System.nanoTime();
        try {
            outputs = sc.run(fn, args, timeoutMs > 0 ? Duration.ofMillis(timeoutMs) : null);
        } catch (ModelTimeoutException e) {
            return status(TIMEDOUT);
        } catch (AiException e) {
            return error(RUN_ERROR, e.getMessage());
        }
        long micros = (System.nanoTime() - start) / 1000;
        if (outputs.size() != nout) {
            return error(RUN_ERROR, "ERR Function returned unexpected number of outputs: " + outputs.size()
                    + " returned, " + nout + " OUTPUTS keys given");
        }
        return outputsFrame(outputs, micros);
    }

    private static Tensor tensor(ByteBuffer req) {
        return TensorCodec.decode(bytes(req)).orElseThrow(
                () -> new AiException("ERR model server: input is not a tensor"));
    }

    private ByteBuffer run(ByteBuffer req) {
        String id = str(req);
        int timeoutMs = req.getInt();
        int nout = req.getInt();
        int nin = req.getInt();
        LoadedModel m = models.get(id);
        if (m == null) {
            return status(UNKNOWN);
        }
        if (m.inputCount() >= 0 && m.inputCount() != nin) {
            throw new AiException("Number of keys given as INPUTS here does not match model definition");
        }
        if (m.outputCount() >= 0 && m.outputCount() != nout) {
            throw new AiException("Number of keys given as OUTPUTS here does not match model definition");
        }
        List<Tensor> inputs = new ArrayList<>(nin);
        for (int k = 0; k < nin; k++) {
            inputs.add(TensorCodec.decode(bytes(req)).orElseThrow(
                    () -> new AiException("ERR model server: input is not a tensor")));
        }
        List<Tensor> outputs;
        long micros;
        Batcher b = batchers.get(id);
        long rows = b == null ? -1 : b.accepts(inputs);
        if (rows >= 1) {
            Batcher.Result r = b.run(inputs, rows, timeoutMs);
            if (r.timedOut()) {
                return status(TIMEDOUT);
            }
            if (r.error() != null) {
                return error(RUN_ERROR, r.error().getMessage());
            }
            outputs = r.outputs();
            micros = r.micros();
        } else {
            long start = System.nanoTime();
            try {
                outputs = m.run(inputs, timeoutMs > 0 ? Duration.ofMillis(timeoutMs) : null);
            } catch (ModelTimeoutException e) {
                return status(TIMEDOUT);
            } catch (AiException e) {
                return error(RUN_ERROR, e.getMessage());
            } finally {
                if (b != null) { // a run that does not batch (more rows than BATCHSIZE): alone
                    b.runs.incrementAndGet();
                    b.requests.incrementAndGet();
                }
            }
            micros = (System.nanoTime() - start) / 1000;
        }
        if (outputs.size() != nout) {
            // a runtime that tells its output count only by running (libtorch) is checked here
            return error(RUN_ERROR, "Number of keys given as OUTPUTS here does not match model definition");
        }
        return outputsFrame(outputs, micros);
    }

    private static ByteBuffer outputsFrame(List<Tensor> outputs, long micros) {
        List<byte[]> enc = new ArrayList<>();
        long total = 1 + 4 + 8;
        for (Tensor t : outputs) {
            byte[] e = TensorCodec.encode(t);
            enc.add(e);
            total += 4 + e.length;
        }
        if (total > MAX_FRAME) {
            throw new AiException("ERR model outputs of " + total + " bytes are larger than 2 GiB");
        }
        ByteBuffer out = frame((int) total);
        out.put(OK).putInt(enc.size());
        for (byte[] e : enc) {
            out.putInt(e.length).put(e);
        }
        out.putLong(micros);
        return out;
    }

    private static ByteBuffer frame(int bodyLength) {
        ByteBuffer b = ByteBuffer.allocate(4 + bodyLength).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(bodyLength);
        return b;
    }

    private static ByteBuffer status(byte s) {
        return frame(1).put(s);
    }

    private static ByteBuffer error(String text) {
        return error(ERROR, text);
    }

    private static ByteBuffer error(byte status, String text) {
        byte[] t = (text == null ? "ERR model server: error" : text).getBytes(StandardCharsets.UTF_8);
        return frame(1 + 4 + t.length).put(status).putInt(t.length).put(t);
    }

    private static byte[] bytes(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new IllegalArgumentException("field of " + n + " bytes, " + b.remaining() + " left");
        }
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    private static String str(ByteBuffer b) {
        return new String(bytes(b), StandardCharsets.UTF_8);
    }

    private static List<String> names(ByteBuffer b) {
        int n = b.getInt();
        List<String> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            out.add(str(b));
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        synchronized (connections) {
            for (SocketChannel c : connections) {
                c.close();
            }
        }
        batchers.values().forEach(Batcher::close);
        batchers.clear();
        models.values().forEach(LoadedModel::close);
        models.clear();
        scripts.values().forEach(LoadedScript::close);
        scripts.clear();
        Files.deleteIfExists(socket);
    }
}
