package io.smartsim.launch.plan;

import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shard layout under {@code --ai} (issue 16; every launcher: local, ssh, Slurm, PBS): each shard's redis-server
 * loads the smartsim-ai module ({@code loadmodule <smartsim-ai.so> SOCKET <socket> BACKENDS <names>}) on the planned
 * port P, and each host runs one model server ({@value #MODEL_SERVER_MAIN}) whose Unix socket its shards share
 * ({@link ModelServerPlan}). No second port, no announce lines: Redis itself answers MOVED, ASK and CROSSSLOT for the
 * AI commands.
 *
 * <p>Pure: the planner calls it with the facts it was given.
 */
public final class AiPlanner {
    /** The model server's main class, in the ai-server jar ({@link ModelServerPlan#MAIN}). */
    public static final String MODEL_SERVER_MAIN = ModelServerPlan.MAIN;
    /** The longest Unix socket path Linux takes ({@code sun_path} is 108 bytes with its terminating zero). */
    public static final int SOCKET_PATH_MAX = 107;
    /** Where a socket goes when the experiment directory's path is too long for one: a private directory under it. */
    static final Path SHORT_SOCKET_ROOT = Path.of("/tmp");
    /** The keys a shard's recorded handle holds for its model server: pid, start time, socket. */
    public static final String HANDLE_PID = "ai.pid";
    public static final String HANDLE_START = "ai.start";
    public static final String HANDLE_SOCKET = "ai.socket";
    /** On a batch scheduler: the node its model server runs on (its pid is that node's). */
    public static final String HANDLE_NODE = "ai.node";
    /** What every model server key of a shard's handle starts with. */
    public static final String HANDLE_PREFIX = "ai.";

    private AiPlanner() {
    }

    /**
     * The model servers of a module plan: one per host, in the order of the hosts' first shards, each serving the
     * shards placed on its host. The socket goes in {@code <dir>/ai/} when that path fits {@value #SOCKET_PATH_MAX}
     * bytes, else in a private directory {@code /tmp/smartsim-ai-<hash of dir>/} (created owner-only at start,
     * removed at stop); if even that does not fit, the plan is refused naming the path.
     */
    static List<ModelServerPlan> modelServers(Path dir, AiSpec ai, AiInstall install, List<ShardPlan> shards) {
        Map<String, List<Integer>> byHost = new LinkedHashMap<>();
        for (ShardPlan s : shards) {
            byHost.computeIfAbsent(s.host(), h -> new ArrayList<>()).add(s.index());
        }
        List<ModelServerPlan> out = new ArrayList<>();
        Path work = dir.resolve("ai");
        int k = 0;
        for (Map.Entry<String, List<Integer>> h : byHost.entrySet()) {
            String file = "model-server-" + k + ".sock";
            Path socket = work.resolve(file);
            boolean privateDir = false;
            if (bytes(socket) > SOCKET_PATH_MAX) {
                socket = shortSocketDir(dir).resolve(file);
                privateDir = true;
                if (bytes(socket) > SOCKET_PATH_MAX) {
                    throw new InvalidSpecException("ai", "the model server's socket " + socket + " is "
                            + bytes(socket) + " bytes, over Linux's " + SOCKET_PATH_MAX + "; use a shorter --exp-dir");
                }
            }
            // java.io.tmpdir in its own directory: ONNX Runtime extracts its native libraries there and never removes
            // the directory, so in /tmp every run would leave one
            List<String> argv = new ArrayList<>(List.of(install.java(), "-XX:+ExitOnOutOfMemoryError",
                    "-Djava.io.tmpdir=" + work, "-cp", install.classPath(), MODEL_SERVER_MAIN, "--socket",
                    socket.toString(), "--backends",
                    String.join(",", ai.backends())));
            if (ai.threads() > 0) { // --ai-threads: 0 (the default) leaves the choice to each runtime
                argv.addAll(List.of("--intra-op-threads", Integer.toString(ai.threads())));
            }
            out.add(new ModelServerPlan(k, h.getKey(), h.getValue(), work, socket, privateDir,
                    work.resolve("model-server-" + k + ".out"), argv, install.module().orElse(null)));
            k++;
        }
        return out;
    }

    /** The private directory for sockets of an experiment directory whose own path is too long: stable per dir. */
    static Path shortSocketDir(Path dir) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(dir.toString()
                    .getBytes(StandardCharsets.UTF_8));
            return SHORT_SOCKET_ROOT.resolve("smartsim-ai-" + HexFormat.of().formatHex(d, 0, 6));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int bytes(Path p) {
        return p.toString().getBytes(StandardCharsets.UTF_8).length;
    }

    /**
     * The line a module shard's config gets: {@code loadmodule} with the module's file, the host's model server
     * socket and the backends it was started with.
     */
    static String moduleLines(AiSpec ai, Path module, ModelServerPlan server) {
        return "# --ai: the AI commands run in this server (the smartsim-ai module); models run on the host's model "
                + "server at its socket\n"
                + "loadmodule " + ConfigRenderer.quote(module.toString()) + " SOCKET "
                + ConfigRenderer.quote(server.socket().toString()) + " BACKENDS " + String.join(",", ai.backends())
                + "\n";
    }

    /**
     * Every port a shard on {@code port} takes: its own, and its bus port when clustered (the module adds none). What
     * {@code --port auto} and the launchers' preflight check.
     */
    public static List<Integer> ports(OrchestratorSpec spec, int port) {
        List<Integer> out = new ArrayList<>(List.of(port));
        if (spec.clustered()) {
            out.add(port + OrchestratorSpec.BUS_PORT_OFFSET);
        }
        return out;
    }

    /** As {@link #ports(OrchestratorSpec, int)} for a shard of {@code plan}. */
    public static List<Integer> ports(LaunchPlan plan, int port) {
        return ports(plan.spec(), port);
    }
}
