package io.smartsim.launch.plan;

import io.smartsim.launch.spec.Backend;
import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.spec.OrchestratorSpec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * How a shard keeps its data ({@code --checkpoint}): the config lines that turn persistence on, and where the data
 * lands. Pure. The data lives in the shard's work directory ({@code <exp>/<id>/<id>_<index>}, owner-only), which is
 * the server's {@code dir}: named by shard index, so the same shard of the next run (same id, same layout) finds it
 * whatever node and port it lands on.
 *
 * <p>Redis 7 writes a multi-part AOF into a directory ({@code appenddirname}); KeyDB 6 (Redis 6 based) has no
 * {@code appenddirname} and writes one file, and it exits at once on an option it does not know.
 */
public final class Persistence {
    /** The RDB snapshot of every backend. */
    public static final String RDB_FILE = "dump.rdb";
    /** Redis 7: the directory of the multi-part AOF (base, increments and their manifest). */
    public static final String AOF_DIR = "appendonlydir";
    /** KeyDB 6: the one AOF file; Redis 7: the prefix of the files in {@link #AOF_DIR}. */
    public static final String AOF_FILE = "appendonly.aof";

    private Persistence() {
    }

    /** The persistence lines of a shard's config: everything off without a checkpoint, as before. */
    static String config(OrchestratorSpec spec) {
        StringBuilder c = new StringBuilder();
        Optional<Checkpoint> cp = spec.checkpoint();
        if (cp.isEmpty()) {
            // An in-memory staging database: no snapshots or AOF unless asked (extra config lines may add them).
            c.append("save \"\"\n");
            c.append("appendonly no\n");
            return c.toString();
        }
        if (cp.get().kind() == Checkpoint.Kind.RDB) {
            long secs = saveSeconds(cp.get().every().orElseThrow());
            // --checkpoint every=: a snapshot (forked BGSAVE) when at least one key changed in the last <secs> s;
            // SIGTERM and SHUTDOWN save too. The file is replaced atomically (temp file, then rename).
            c.append("dbfilename ").append(ConfigRenderer.quote(RDB_FILE)).append('\n');
            c.append("save ").append(secs).append(" 1\n");
            c.append("appendonly no\n");
        } else {
            // --checkpoint aof: every write appended, fsynced once a second (a machine crash loses up to ~1 s; a
            // killed process loses nothing acknowledged). No RDB save points: the AOF is the data.
            c.append("save \"\"\n");
            c.append("appendonly yes\n");
            c.append("appendfilename ").append(ConfigRenderer.quote(AOF_FILE)).append('\n');
            if (spec.backend() == Backend.REDIS) {
                c.append("appenddirname ").append(ConfigRenderer.quote(AOF_DIR)).append('\n');
            }
            c.append("appendfsync everysec\n");
            // Rewrites start from an RDB image, so loading a long AOF is fast.
            c.append("aof-use-rdb-preamble yes\n");
            // A write cut short by a kill or crash is dropped at load instead of refusing to start.
            c.append("aof-load-truncated yes\n");
        }
        return c.toString();
    }

    /** Redis's save points count whole seconds: an interval is rounded up to the next one. */
    static long saveSeconds(Duration every) {
        return Math.max(1, (every.toMillis() + 999) / 1000);
    }

    /**
     * Where a shard with this work directory keeps its data under {@code checkpoint}: the RDB file, Redis 7's AOF
     * directory or KeyDB's AOF file.
     */
    public static Path dataPath(Path workDir, Checkpoint checkpoint, Backend backend) {
        if (checkpoint.kind() == Checkpoint.Kind.RDB) {
            return workDir.resolve(RDB_FILE);
        }
        return workDir.resolve(backend == Backend.REDIS ? AOF_DIR : AOF_FILE);
    }

    /** Every path a shard's server would load data from at start, whatever the checkpoint mode. */
    public static List<Path> loadablePaths(Path workDir) {
        return List.of(workDir.resolve(RDB_FILE), workDir.resolve(AOF_DIR), workDir.resolve(AOF_FILE));
    }
}
