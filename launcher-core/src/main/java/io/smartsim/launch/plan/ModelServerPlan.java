package io.smartsim.launch.plan;

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
 * @param socket        its Unix socket; at most {@value AiPlanner#SOCKET_PATH_MAX} bytes
 * @param socketDirPrivate true when the socket's directory is a private one outside the experiment (the experiment
 *                      directory's path was too long for a socket): the launcher creates it owner-only at start and
 *                      removes it at stop
 * @param console       its stdout and stderr ({@code ready socket=...}, or why it did not start)
 * @param argv          its command line
 */
public record ModelServerPlan(int index, String host, List<Integer> shards, Path workDir, Path socket,
                              boolean socketDirPrivate, Path console, List<String> argv) {
    public ModelServerPlan {
        shards = List.copyOf(shards);
        argv = List.copyOf(argv);
    }

    /** The line it prints once it listens, after warming up each backend: what a launcher waits for. */
    public static final String READY = "ready socket=";
}
