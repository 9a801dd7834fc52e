package io.smartsim.launch.planned;

import java.nio.file.Path;
import java.util.List;

/**
 * The model server of one host under {@code --ai} served by the Redis module (docs/ai.md, "One model server per shard
 * or per node: per node"): a JVM ({@code ModelServerMain}) that the host's shards reach over one Unix socket, started
 * before them and stopped after them.
 *
 * @param index         0-based, in the order of the hosts' first shards
 * @param host          the host it runs on (the placement's name)
 * @param shards        the indexes of the shards that load the module with this socket
 * @param workDir       where it runs and writes its console ({@code <orchestrator dir>/ai})
 * @param socket        its Unix socket; at most {@code plan.AiPlanner.SOCKET_PATH_MAX} bytes
 * @param socketDirPrivate true when the socket's directory is a private one outside the experiment (the experiment
 *                      directory's path was too long for a socket): the launcher creates it owner-only at start and
 *                      removes it at stop
 * @param console       its stdout and stderr ({@code ready socket=...}, or why it did not start)
 * @param argv          its command line
 * @param module        the smartsim-ai module file its shards load: with the java and the class path of
 *                      {@code argv}, what must exist on its host ({@link #needed()})
 */
public record ModelServerPlan(int index, String host, List<Integer> shards, Path workDir, Path socket,
                              boolean socketDirPrivate, Path console, List<String> argv, Path module) {
    /** Its main class, in the ai-server jar: what {@link #argv()} runs (and {@code doctor} asks for its backends). */
    public static final String MAIN = "io.smartsim.launch.ai.modelserver.ModelServerMain";

    public ModelServerPlan {
        shards = List.copyOf(shards);
        argv = List.copyOf(argv);
    }

    /**
     * The files its host must have, at these paths: the java it runs with, each class path entry (the AI directory
     * for {@code DIR/*}) and the module file. A launcher on other hosts checks them there before starting anything.
     */
    public List<String> needed() {
        List<String> out = new java.util.ArrayList<>(List.of(argv.get(0)));
        int cp = argv.indexOf("-cp");
        if (cp >= 0 && cp + 1 < argv.size()) {
            out.addAll(classPathEntries(argv.get(cp + 1)));
        }
        if (module != null) {
            out.add(module.toString());
        }
        return List.copyOf(out);
    }

    /** The line it prints once it listens, after warming up each backend: what a launcher waits for. */
    public static final String READY = "ready socket=";

    /**
     * What an auth-on {@code --ai} orchestrator says at start and in its plan: SmartRedis sends no AUTH, so its clients
     * are refused until the orchestrator runs with {@code --no-auth} (shared/notes/redisai.md).
     */
    public static String smartRedisAuthNote(LaunchPlan plan) {
        return "note: '" + plan.id() + "' requires a password, and SmartRedis clients (C, C++, Fortran, Python) never "
                + "send one: they get NOAUTH. To serve them, start it with --no-auth (then anyone who "
                + "can reach its ports can read and change its data and run models). The Java client, redis-cli and "
                + "Jedis log in with SSDB_USER/SSDB_PASSWORD";
    }

    /** The files and directories a class path names: each entry, {@code DIR} for {@code DIR/*}. */
    public static List<String> classPathEntries(String classPath) {
        List<String> out = new java.util.ArrayList<>();
        for (String e : classPath.split(java.io.File.pathSeparator)) {
            if (!e.isBlank()) {
                out.add(e.endsWith("/*") ? e.substring(0, e.length() - 2) : e);
            }
        }
        return out;
    }
}
