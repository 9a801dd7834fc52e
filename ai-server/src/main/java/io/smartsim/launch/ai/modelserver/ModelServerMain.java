package io.smartsim.launch.ai.modelserver;

import io.smartsim.launch.ai.Backends;
import io.smartsim.launch.ai.spi.AiBackend;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code java -cp <ai-server + backend jars> io.smartsim.launch.ai.modelserver.ModelServerMain --socket PATH
 * --backends ONNX[,TORCH,TF,TFLITE] [--intra-op-threads N]}: the model server for one redis-server with the
 * smartsim-ai module. Loads only the backends named (a name not on the class path is refused at start), loads every
 * model and script to use at most N threads per operator ({@code --ai-threads}; 0 or absent: the runtime chooses),
 * prints one line {@code ready socket=PATH backends=... intra-op-threads=N} once it listens, and runs until it is
 * killed (SIGTERM removes the socket).
 *
 * <p>{@code ModelServerMain --list-backends} (for {@code doctor}) prints one line per backend found on the class path,
 * {@code NAME VERSION}, and exits: asking a version loads that runtime, in this JVM, not the caller's.
 */
public final class ModelServerMain {
    private ModelServerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--list-backends")) {
            Backends found = Backends.discover();
            for (String n : found.names()) {
                System.out.println(n + " " + found.get(n).orElseThrow().version());
            }
            return;
        }
        Path socket = null;
        List<String> names = new ArrayList<>();
        int threads = 0;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                usage(a + " needs a value");
            }
            switch (a) {
                case "--socket" -> socket = Path.of(args[++i]);
                case "--backends" -> {
                    for (String n : args[++i].split(",")) {
                        if (!n.isBlank()) {
                            names.add(n.trim().toUpperCase(Locale.ROOT));
                        }
                    }
                }
                case "--intra-op-threads" -> threads = threads(args[++i]);
                default -> usage("unknown option " + a);
            }
        }
        if (socket == null) {
            usage("--socket is missing");
        }
        if (names.isEmpty()) {
            usage("--backends is missing: name at least one of " + Backends.KNOWN);
        }
        Backends found = Backends.discover();
        List<AiBackend> chosen = new ArrayList<>();
        for (String n : names) {
            if (!Backends.KNOWN.contains(n)) {
                usage("--backends: unknown backend " + n + "; known: " + Backends.KNOWN);
            }
            chosen.add(found.get(n).orElseThrow(() -> {
                usage("--backends: the " + n + " backend is not on the class path (found: " + found.names()
                        + "); add its jar (ai-" + n.toLowerCase(Locale.ROOT) + ")");
                return new IllegalStateException();
            }));
        }
        Backends backends = Backends.of(chosen);
        ModelServer server = ModelServer.start(backends, socket, threads);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                // exiting anyway
            }
        }));
        System.out.println("ready socket=" + socket + " backends=" + String.join(",", backends.names())
                + " intra-op-threads=" + threads);
        System.out.flush();
        Thread.currentThread().join();
    }

    /** The value of --intra-op-threads, or usage: 0 (the runtime chooses) to 1024, as the spec's ai.threads. */
    private static int threads(String value) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 0 && n <= 1024) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        usage("--intra-op-threads: '" + value + "' is not a number from 0 (the runtime chooses) to 1024");
        return 0;
    }

    private static void usage(String problem) {
        System.err.println("model server: " + problem);
        System.err.println("usage: ModelServerMain --socket PATH --backends ONNX[,TORCH,TF,TFLITE] "
                + "[--intra-op-threads N] | --list-backends");
        System.exit(2);
    }
}
