package io.smartsim.launch.plan;

import io.smartsim.launch.AiSpec;
import io.smartsim.launch.Backend;
import io.smartsim.launch.InvalidSpecException;
import io.smartsim.launch.OrchestratorSpec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The shard layout under {@code --ai}: one process per shard, the RedisAI-compatible front, which answers on the
 * planned port P (the one in {@code SSDB}) and runs the shard's redis-server as its child on the private port
 * P + {@value #SERVER_PORT_OFFSET}. Clustered, Redis keeps its bus on P + 10000 ({@code cluster-port}) and announces
 * the front's port ({@code cluster-announce-port P}), so CLUSTER SLOTS, CLUSTER NODES and MOVED name the fronts and
 * clients never see the private port. Pure: the planner calls it with the facts it was given.
 */
public final class AiPlanner {
    /** The shard's redis-server listens on the front's port plus this. */
    public static final int SERVER_PORT_OFFSET = 20000;
    /** The front's main class, in the ai-server jar. */
    public static final String MAIN = "io.smartsim.launch.ai.AiServerMain";
    /** Everything after this option in a front's argv is its server's argv. */
    public static final String SERVER_ARGV = "--server-argv";

    private AiPlanner() {
    }

    /**
     * What an auth-on {@code --ai} orchestrator says at start and in its plan: SmartRedis sends no AUTH, so its clients
     * are refused until the orchestrator runs with {@code --no-auth} (shared/notes/redisai.md).
     */
    public static String smartRedisAuthNote(LaunchPlan plan) {
        return "note: '" + plan.id() + "' requires a password, and SmartRedis clients (C, C++, Fortran, Python) never "
                + "send one: they get NOAUTH with this advice. To serve them, start it with --no-auth (then anyone who "
                + "can reach its ports can read and change its data and run models). The Java client, redis-cli and "
                + "Jedis log in with SSDB_USER/SSDB_PASSWORD";
    }

    /** Options the front cannot serve yet, refused by name before anything is planned. */
    static void refuseUnsupported(OrchestratorSpec spec) {
        if (spec.tls()) {
            throw new InvalidSpecException("ai", "--ai with --tls is not available: the front speaks plain TCP to its "
                    + "clients; leave out one of them");
        }
        if (spec.clustered() && spec.backend() == Backend.KEYDB) {
            throw new InvalidSpecException("ai", "--ai with a clustered keydb backend is not available: KeyDB has no "
                    + "cluster-port option, so it cannot announce the fronts' ports; use --backend redis");
        }
    }

    /**
     * Every port a shard on {@code port} takes: its own, its bus port when clustered, and its server's private port
     * under {@code --ai}. What {@code --port auto} and the launchers' preflight check.
     */
    public static List<Integer> ports(OrchestratorSpec spec, int port) {
        List<Integer> out = new ArrayList<>(List.of(port));
        if (spec.clustered()) {
            out.add(port + OrchestratorSpec.BUS_PORT_OFFSET);
        }
        if (spec.ai().isPresent()) {
            out.add(port + SERVER_PORT_OFFSET);
        }
        return out;
    }

    /** The private port of the server behind the front on {@code port}; refused when it would pass 65535. */
    static int serverPort(OrchestratorSpec spec, String host, int port) {
        int server = port + SERVER_PORT_OFFSET;
        if (server > 65535) {
            throw new InvalidSpecException("port", spec.port() + " is too high for --ai: host " + host + " runs a shard "
                    + "on " + port + " whose redis-server takes " + port + " + " + SERVER_PORT_OFFSET + " = " + server
                    + " (over 65535); use a base port of at most " + (65535 - SERVER_PORT_OFFSET - (port - spec.port())));
        }
        return server;
    }

    /** Config lines for the server behind the front on {@code port}: the bus and the announced ports. */
    static String configLines(OrchestratorSpec spec, int port) {
        if (!spec.clustered()) {
            return "";
        }
        int bus = port + OrchestratorSpec.BUS_PORT_OFFSET;
        return "# --ai: clients reach this shard through its front on " + port + "; the cluster announces the front.\n"
                + "cluster-port " + bus + "\n"
                + "cluster-announce-port " + port + "\n"
                + "cluster-announce-bus-port " + bus + "\n";
    }

    /**
     * The front's argv: it listens on {@code port} (at {@code bindAddresses}, or where a wrapper later tells the
     * server to bind), reaches its server on {@code serverPort}, and starts {@code serverArgv} as its child. Its
     * {@code java.io.tmpdir} is the shard's directory {@code work}: ONNX Runtime's Java binding extracts its native
     * libraries into a new {@code onnxruntime-java*} directory there at every start and never removes it (left empty
     * at a normal exit, full when the JVM is killed), which in /tmp piled up one per front started.
     */
    static List<String> argv(OrchestratorSpec spec, AiSpec ai, AiInstall install, int port, List<String> bindAddresses,
                             int serverPort, List<String> serverArgv, Path work) {
        List<String> argv = new ArrayList<>(List.of(install.java(), "-XX:+ExitOnOutOfMemoryError",
                "-Djava.io.tmpdir=" + work, "-cp", install.classPath(), MAIN, "--port", Integer.toString(port)));
        if (!bindAddresses.isEmpty()) {
            argv.addAll(List.of("--bind", String.join(",", bindAddresses)));
        }
        argv.addAll(List.of("--redis-port", Integer.toString(serverPort), "--threads", Integer.toString(ai.threads()),
                "--backends", String.join(",", ai.backends())));
        if (spec.clustered()) {
            argv.add("--cluster");
        }
        if (spec.auth()) {
            argv.add("--auth");
        }
        argv.add(SERVER_ARGV);
        argv.addAll(serverArgv);
        return argv;
    }
}
