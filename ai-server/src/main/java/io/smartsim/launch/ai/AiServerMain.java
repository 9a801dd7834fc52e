package io.smartsim.launch.ai;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs one front until it is stopped:
 * <pre>
 * java -cp ... io.smartsim.launch.ai.AiServerMain --port P [--bind A[,B]] (--redis HOST:R | --redis-port R)
 *      [--threads N] [--backends ONNX,...] [--cluster] [--auth] [--server-argv redis-server CONF [ARGS...]]
 * </pre>
 * With {@code --server-argv} (always the last option: everything after it is the server's command line) the front
 * starts that redis-server as its child, waits for it, and lives exactly as long as it: when the server exits the front
 * exits with its code, and when the front ends (SIGTERM, SIGKILL, or the server's SHUTDOWN) the server is stopped
 * ({@link ServerChild}). Without {@code --bind}, the front listens where its server was told to bind with a trailing
 * {@code --bind} (the Slurm and PBS wrappers add the node's addresses there), else on 127.0.0.1; {@code --redis-port}
 * reaches the server at the first of those addresses. {@code --backends} names backends that must be present
 * (the front exits at once naming what it has otherwise); {@code --cluster} turns on the cluster checks (CROSSSLOT);
 * {@code --auth} says the server requires a password, so commands before AUTH get a NOAUTH that explains the choice.
 * Prints "ready PORT backends=NAMES" once it accepts connections.
 */
public final class AiServerMain {
    private static final String USAGE = "use --port P [--bind ADDR[,ADDR]] (--redis host:port|unix:/path | --redis-port R)"
            + " [--threads N] [--backends NAME,...] [--cluster] [--auth] [--server-argv SERVER ARGS...]";

    private AiServerMain() {
    }

    /** The parsed command line. */
    record Options(String bind, int port, String redis, int threads, List<String> backends, boolean cluster,
                   boolean auth, List<String> serverArgv) {
    }

    static Options parse(String[] args) {
        String bind = null;
        int port = 6780;
        String redis = null;
        int redisPort = -1;
        int threads = 0;
        List<String> backends = List.of();
        boolean cluster = false;
        boolean auth = false;
        List<String> serverArgv = List.of();
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--bind" -> bind = required(args[i], v);
                case "--port" -> port = integer(args[i], v);
                case "--redis" -> redis = required(args[i], v);
                case "--redis-port" -> redisPort = integer(args[i], v);
                case "--threads" -> threads = integer(args[i], v);
                case "--backends" -> backends = Arrays.stream(required(args[i], v).split(","))
                        .map(String::strip).filter(s -> !s.isEmpty()).toList();
                case "--cluster" -> {
                    cluster = true;
                    continue;
                }
                case "--auth" -> {
                    auth = true;
                    continue;
                }
                case "--server-argv" -> {
                    serverArgv = List.of(Arrays.copyOfRange(args, i + 1, args.length));
                    i = args.length;
                    continue;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; " + USAGE);
            }
            i++;
        }
        if (bind == null) {
            List<String> serverBinds = serverBinds(serverArgv);
            bind = serverBinds.isEmpty() ? "127.0.0.1" : String.join(",", serverBinds);
        }
        if (redis == null) {
            if (redisPort < 0) {
                throw new IllegalArgumentException("--redis host:port or --redis-port R is required: the redis-server "
                        + "behind this front; " + USAGE);
            }
            redis = bind.split(",")[0] + ":" + redisPort;
        }
        return new Options(bind, port, redis, threads, backends, cluster, auth, serverArgv);
    }

    /** The addresses after the server argv's last {@code --bind}, up to its next option. */
    static List<String> serverBinds(List<String> serverArgv) {
        int at = serverArgv.lastIndexOf("--bind");
        List<String> out = new ArrayList<>();
        for (int i = at + 1; at >= 0 && i < serverArgv.size() && !serverArgv.get(i).startsWith("--"); i++) {
            out.add(serverArgv.get(i));
        }
        return out;
    }

    private static String required(String option, String v) {
        if (v == null) {
            throw new IllegalArgumentException(option + " needs a value; " + USAGE);
        }
        return v;
    }

    private static int integer(String option, String v) {
        try {
            return Integer.parseInt(required(option, v));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " '" + v + "' is not a whole number; " + USAGE);
        }
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length == 1 && args[0].equals("--list-backends")) {
            // For doctor: one line per backend found on this class path, "NAME VERSION".
            for (String n : Backends.discover().names()) {
                System.out.println(n + " " + Backends.discover().get(n).orElseThrow().version());
            }
            return;
        }
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("smartsim-ai: " + e.getMessage());
            System.exit(2);
            return;
        }
        Backends backends = Backends.discover();
        List<String> missing = o.backends().stream().filter(b -> backends.get(b).isEmpty()).toList();
        if (!missing.isEmpty()) {
            System.err.println("smartsim-ai: backend(s) " + missing + " are not on this class path; found "
                    + backends.names() + " (class path: " + System.getProperty("java.class.path") + ")");
            System.exit(2);
            return;
        }
        ServerChild child = null;
        if (!o.serverArgv().isEmpty()) {
            child = ServerChild.start(o.serverArgv());
            ServerChild c = child;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    c.stop(Duration.ofSeconds(30));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "smartsim-ai-stop-server"));
            int colon = o.redis().lastIndexOf(':');
            try {
                if (o.redis().startsWith("unix:")) {
                    throw new IOException("--server-argv needs a TCP --redis address to wait on");
                }
                child.awaitReady(o.redis().substring(0, colon), Integer.parseInt(o.redis().substring(colon + 1)),
                        Duration.ofMinutes(10));
            } catch (IOException e) {
                System.err.println("smartsim-ai: " + e.getMessage());
                System.exit(1);
                return;
            }
        }
        AiServer server = new AiServer(new AiServerConfig(o.bind(), o.port(), o.redis(), o.threads(),
                Duration.ofSeconds(5)), backends, new AiServer.Mode(o.cluster(), o.auth()));
        try {
            server.start();
        } catch (IOException e) {
            System.err.println("smartsim-ai: cannot listen on " + o.bind() + " port " + o.port() + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "smartsim-ai-close"));
        System.out.println("ready " + server.port() + " backends=" + String.join(",", backends.names())
                + (child == null ? "" : " server-pid=" + child.pid()));
        System.out.flush();
        if (child == null) {
            Thread.currentThread().join();
        }
        int code = child.waitFor();
        System.out.println("smartsim-ai: the server exited with code " + code + "; the front exits too");
        System.out.flush();
        System.exit(code == 0 ? 0 : 1);
    }
}
