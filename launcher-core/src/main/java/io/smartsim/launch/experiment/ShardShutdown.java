package io.smartsim.launch.experiment;

import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.cluster.ClusterNode;
import io.smartsim.launch.cluster.Connections;
import io.smartsim.launch.cluster.InfoParser;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.ShardData;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Persistence;
import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.planned.Access;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.util.Parallel;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * How {@code db stop} ends shards, and what it learns of their data. Without a checkpoint: {@code SHUTDOWN NOSAVE}
 * (the data is not kept). With {@code --checkpoint every=}: {@code SHUTDOWN SAVE}, a last snapshot written before
 * the server exits; with {@code --checkpoint aof}: {@code SHUTDOWN}, which flushes and fsyncs the AOF. Each waits
 * at most {@link #saveTimeout} (two minutes, more for a big data set); a shard that refuses (the save failed: disk full, no permission) or does not answer
 * is left to the launcher's stop (SIGTERM, which saves too, then SIGKILL), and its data is as of its last good save.
 * Before the shutdown, {@code INFO persistence} and the shard's own {@code CLUSTER NODES} line tell the last save and
 * the slots it served: written to the manifest ({@link ShardData}) for {@code db start --resume}.
 *
 * <p>Only {@code db stop} (and {@code db cleanup} of a degraded orchestrator) save. A failed or interrupted launch is
 * torn down with {@code SHUTDOWN NOSAVE}: its shards hold nothing newer than their files.
 */
final class ShardShutdown {
    /**
     * The least time a shard gets to write its last snapshot at stop; more for a big data set, at
     * {@link #SAVE_BYTES_PER_SECOND} (1 GB took 22 s on a loaded test VM's disk).
     */
    static final Duration SAVE_TIMEOUT = Duration.ofMinutes(2);
    /** A slow disk's write rate, for the save timeout of a big shard. */
    static final long SAVE_BYTES_PER_SECOND = 10L << 20;

    private ShardShutdown() {
    }

    /** What one shard's shutdown told: its persistence info before, its served slots, and whether it saved. */
    record Outcome(int index, Map<String, String> info, List<SlotRange> served, boolean saved,
                   Optional<String> problem) {
    }

    /**
     * Shuts every shard down in parallel, saving first when the plan checkpoints; returns one outcome per shard
     * (empty without a checkpoint). Shards that cannot be reached are left to the launcher.
     */
    static List<Outcome> shutdown(LaunchPlan plan, List<LaunchedShard> shards, Duration controlTimeout, Access access,
                                  Consumer<String> progress) {
        if (plan.spec().checkpoint().isEmpty()) {
            Shards.shutdownNoSave(shards, controlTimeout, access);
            return List.of();
        }
        Checkpoint cp = plan.spec().checkpoint().get();
        String command = cp.kind() == Checkpoint.Kind.RDB ? "SHUTDOWN SAVE" : "SHUTDOWN";
        progress.accept("keeping the data of '" + plan.id() + "' (--checkpoint " + cp + "): " + command + " to "
                + shards.size() + " shard(s)");
        List<Outcome> out = Parallel.map(shards, s -> one(s, cp, plan.clustered(), controlTimeout, access));
        out.stream().filter(o -> o.problem().isPresent()).forEach(o -> progress.accept("warning: shard " + o.index()
                + ": " + o.problem().get()));
        return out;
    }

    private static Outcome one(LaunchedShard s, Checkpoint cp, boolean clustered, Duration controlTimeout,
                               Access access) {
        Map<String, String> info = Map.of();
        List<SlotRange> served = List.of();
        try (Jedis j = Connections.open(s.host(), s.port(), controlTimeout, access)) {
            info = InfoParser.parse(j.info()); // all sections: KeyDB (Redis 6) takes one section name at most
            if (clustered) {
                served = ClusterNode.parseAll(j.clusterNodes()).stream().filter(n -> n.myself() && n.master())
                        .findFirst().map(ClusterNode::slots).orElse(List.of());
            }
            j.getConnection().setSoTimeout((int) saveTimeout(info).toMillis());
            if (cp.kind() == Checkpoint.Kind.RDB) {
                j.sendCommand(Protocol.Command.SHUTDOWN, "SAVE");
            } else {
                j.sendCommand(Protocol.Command.SHUTDOWN);
            }
            return new Outcome(s.index(), info, served, false, Optional.of("SHUTDOWN returned instead of exiting"));
        } catch (JedisDataException e) {
            return new Outcome(s.index(), info, served, false, Optional.of("refused to shut down (" + e.getMessage()
                    + "; its log says why); its data is as of its last good save"));
        } catch (JedisConnectionException e) {
            if (info.isEmpty()) {
                return new Outcome(s.index(), info, served, false, Optional.of("unreachable at stop ("
                        + e.getMessage() + "); its data is as of its last save"));
            }
            if (e.getCause() instanceof SocketTimeoutException) {
                return new Outcome(s.index(), info, served, false, Optional.of("did not finish saving within "
                        + saveTimeout(info).toSeconds() + " s; it is terminated and its data is as of its last good "
                        + "save"));
            }
            return new Outcome(s.index(), info, served, true, Optional.empty()); // closed as it exited: saved
        } catch (JedisException e) {
            return new Outcome(s.index(), info, served, false, Optional.of("could not be asked to save ("
                    + e.getMessage() + "); its data is as of its last save"));
        }
    }

    /** How long a shard holding {@code used_memory} (from INFO) may take to save: {@link #SAVE_TIMEOUT} or more. */
    static Duration saveTimeout(Map<String, String> info) {
        long used;
        try {
            used = Long.parseLong(info.getOrDefault("used_memory", "0").strip());
        } catch (NumberFormatException e) {
            used = 0;
        }
        Duration bySize = Duration.ofSeconds(used / SAVE_BYTES_PER_SECOND);
        return bySize.compareTo(SAVE_TIMEOUT) > 0 ? bySize : SAVE_TIMEOUT;
    }

    /**
     * The manifest's data records after a stop: one per planned shard, from its outcome and its files (read once
     * the processes have exited). Shards with no outcome keep what {@code before} knew of them.
     */
    static List<ShardData> records(LaunchPlan plan, List<Outcome> outcomes, List<ShardData> before, Instant stoppedAt) {
        return records(plan, outcomes, before, stoppedAt, dataFacts(plan, DataFiles.local()));
    }

    /** The facts of every planned shard's data path, read through {@code files} (where the shards wrote them). */
    static Map<Path, FileFacts> dataFacts(LaunchPlan plan, DataFiles files) {
        if (plan.spec().checkpoint().isEmpty()) {
            return Map.of();
        }
        Checkpoint cp = plan.spec().checkpoint().get();
        return files.facts(plan.shards().stream().map(s -> Persistence.dataPath(s.workDir(), cp,
                plan.spec().backend())).toList());
    }

    /**
     * {@link #dataFacts} through {@code launcher}'s transport; nothing (and a warning) when the files cannot be looked
     * at (a login node gone): the stop is recorded all the same, without sizes.
     */
    static Map<Path, FileFacts> dataFacts(LaunchPlan plan, io.smartsim.launch.spi.Launcher launcher,
                                          Consumer<String> progress) {
        if (plan.spec().checkpoint().isEmpty()) {
            return Map.of();
        }
        DataFiles files = DataFiles.local();
        try {
            files = DataFiles.of(launcher.transport(plan.spec()));
            return dataFacts(plan, files);
        } catch (RuntimeException e) {
            progress.accept("warning: could not look at the data files of '" + plan.id() + "' on " + files.where()
                    + " (" + e.getMessage() + "); their sizes are not recorded");
            return Map.of();
        }
    }

    /** As above, with the data files' facts already read ({@link #dataFacts}). */
    static List<ShardData> records(LaunchPlan plan, List<Outcome> outcomes, List<ShardData> before, Instant stoppedAt,
                                   Map<Path, FileFacts> facts) {
        Checkpoint cp = plan.spec().checkpoint().orElseThrow();
        List<ShardData> out = new ArrayList<>();
        plan.shards().forEach(s -> {
            Path path = Persistence.dataPath(s.workDir(), cp, plan.spec().backend());
            Optional<Outcome> o = outcomes.stream().filter(x -> x.index() == s.index()).findFirst();
            Optional<ShardData> prior = before.stream().filter(d -> d.index() == s.index()).findFirst();
            Optional<FileFacts> file = Optional.ofNullable(facts.get(path));
            Optional<Instant> savedAt;
            String words;
            if (o.isPresent() && o.get().saved()) {
                savedAt = Optional.of(stoppedAt);
                words = cp.kind() == Checkpoint.Kind.RDB ? "saved by SHUTDOWN SAVE at stop"
                        : "AOF flushed and fsynced by SHUTDOWN at stop (aof_last_write_status:"
                        + o.get().info().getOrDefault("aof_last_write_status", "?") + ")";
            } else {
                savedAt = o.flatMap(x -> lastSaveTime(x.info(), cp)).or(() -> file.map(FileFacts::modified));
                words = o.flatMap(Outcome::problem).orElse("not seen at stop");
            }
            List<SlotRange> served = o.map(Outcome::served).filter(x -> !x.isEmpty())
                    .or(() -> prior.map(ShardData::served)).orElse(List.of());
            out.add(new ShardData(s.index(), s.name(), cp.kind(), path, savedAt, file.map(FileFacts::bytes), served,
                    Optional.of(words)));
        });
        return out;
    }

    /** {@code r} with its data records brought up to date after a stop; unchanged without a checkpoint. */
    static OrchestratorRecord recorded(OrchestratorRecord r, LaunchPlan plan, List<Outcome> outcomes,
                                       Instant stoppedAt) {
        return recorded(r, plan, outcomes, stoppedAt, dataFacts(plan, DataFiles.local()));
    }

    /** As above, with the data files' facts already read ({@link #dataFacts}): no I/O under the manifest's lock. */
    static OrchestratorRecord recorded(OrchestratorRecord r, LaunchPlan plan, List<Outcome> outcomes,
                                       Instant stoppedAt, Map<Path, FileFacts> facts) {
        if (plan.spec().checkpoint().isEmpty()) {
            return r;
        }
        return r.withData(records(plan, outcomes, r.data(), stoppedAt, facts));
    }

    /** {@code rdb_last_save_time} (RDB; seconds since the epoch) from INFO persistence. */
    private static Optional<Instant> lastSaveTime(Map<String, String> info, Checkpoint cp) {
        String t = info.get("rdb_last_save_time");
        if (cp.kind() != Checkpoint.Kind.RDB || t == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.ofEpochSecond(Long.parseLong(t.strip())));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Size and last change of a data file, or of every file in a data directory (Redis 7's AOF). */
    record FileFacts(long bytes, Instant modified) {
        /** On this machine's file system; {@link DataFiles} for data that may be behind a login node. */
        static Optional<FileFacts> of(Path path) {
            return DataFiles.local().facts(path);
        }
    }
}
