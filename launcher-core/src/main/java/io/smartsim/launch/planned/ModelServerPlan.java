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
            for (String e : argv.get(cp + 1).split(java.io.File.pathSeparator)) {
                if (!e.isBlank()) {
                    out.add(e.endsWith("/*") ? e.substring(0, e.length() - 2) : e);
                }
            }
        }
        if (module != null) {
            out.add(module.toString());
        }
        return List.copyOf(out);
    }

    /** The line it prints once it listens, after warming up each backend: what a launcher waits for. */
    public static final String READY = "ready socket=";
}
