package io.smartsim.launch.experiment;

import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.error.StateException;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.ShardData;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Persistence;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.exec.Transports;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code db start --resume}: an orchestrator started again on the data its previous run kept ({@code --checkpoint}),
 * after a full {@code db stop} or a lost allocation (every shard killed, the job cancelled).
 *
 * <p>What is reused is the data files only, never the previous {@code nodes-<port>.conf}: the shards start with new
 * node ids and the cluster is formed afresh, each shard given the slot range whose keys it holds. A node map from
 * the previous run names old node ids at old addresses (on a new allocation, other hosts and maybe other ports), so
 * a node loading it would wait for peers that never come back and gossip with whatever now listens there; and the
 * slot layout is a pure function of the shard count ({@link SlotRange#split}), so nothing in it is needed. The one
 * thing to respect is that a node loading keys of slots nobody owns claims those slots at startup: cluster forming
 * accepts exactly those that are its own ({@code cluster.LoadedSlots}).
 *
 * <p>Which data each slot range resumes from: the process that served the range last ({@link #lastServer}): a shard
 * recorded at stop as master of the range wins, newest save first (a replica promoted during the run is recorded so);
 * after a lost allocation, the newest data among the range's planned master and its replicas. Data from another
 * shard's directory is copied into the resuming shard's directory before it starts.
 */
public final class Resume {
    private Resume() {
    }

    /** The end of every "resume with ..." fix: a resume repeats what is recorded unless told otherwise. */
    private static final String FROM_RECORD = " (a resume takes it from the record)";

    /**
     * The launcher options of one run only, never repeated by a resume: the allocation (or PBS job) it ran in. A
     * resume runs in the allocation it is given, or the one it runs inside ({@code SLURM_JOB_ID}, {@code PBS_JOBID}),
     * or submits its own batch job when the record says {@code batch}.
     */
    static final java.util.Set<String> ONE_RUN_OPTIONS = java.util.Set.of("alloc");

    /**
     * The command that resumes an orchestrator of {@code spec} in {@code expDir} after {@code db stop}: the directory
     * and the id; the rest comes from the manifest. An allocation is never repeated by itself: when the run was given
     * one ({@code --alloc}), the hint names it, as the user's to give again.
     */
    public static String hint(java.nio.file.Path expDir, OrchestratorSpec spec) {
        java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of("smartsim-launch", "db", "start",
                "--resume", "--exp-dir", expDir.toString(), "--name", spec.id()));
        ONE_RUN_OPTIONS.stream().sorted().filter(spec.launcherOptions()::containsKey).forEach(k -> {
            argv.add("--" + k);
            argv.add(spec.launcherOptions().get(k));
        });
        return io.smartsim.launch.script.Shell.join(argv);
    }

    /**
     * What a resume of {@code previous} starts by default: the recorded spec (backend, server binary, nodes, shards
     * per node, replicas, port, interfaces, checkpoint, auth, TLS, AI, restart, lease, launcher and its options)
     * without what belonged to that run only ({@link #ONE_RUN_OPTIONS}). Refuses, as {@link #choose} would, a record
     * that cannot be resumed: none, or one without a checkpoint.
     */
    public static OrchestratorSpec specToRepeat(Optional<OrchestratorRecord> previous, String id, Path expDir) {
        OrchestratorRecord prev = previous.orElseThrow(() -> nothingRecorded(id, expDir));
        if (prev.spec().checkpoint().isEmpty()) {
            throw noCheckpoint(id, expDir);
        }
        java.util.Map<String, String> options = new java.util.LinkedHashMap<>(prev.spec().launcherOptions());
        options.keySet().removeAll(ONE_RUN_OPTIONS);
        return prev.spec().toBuilder().launcherOptions(options).build();
    }

    private static StateException nothingRecorded(String id, Path expDir) {
        return new StateException("nothing to resume: no orchestrator '" + id + "' is recorded in " + expDir
                + " (a first run?); start it without --resume, or give the --exp-dir and --name it ran with");
    }

    private static StateException noCheckpoint(String id, Path expDir) {
        return new StateException("nothing to resume: orchestrator '" + id + "' in " + expDir + " ran "
                + "without --checkpoint, so it kept no data; start it without --resume");
    }

    /** Where one resuming shard's data comes from. */
    record Source(int shard, List<SlotRange> slots, Path from, Path to, Optional<ShardData> recorded) {
        Source {
            slots = List.copyOf(slots);
            recorded = recorded == null ? Optional.empty() : recorded;
        }
    }

    /**
     * Before a start: with {@code resume}, checks the previous record against the new plan and puts each shard's
     * data in place; without, refuses to start over data an earlier run left (a shard would silently load it).
     * Returns the data records to write at start (empty without a checkpoint).
     */
    static List<ShardData> prepare(Optional<OrchestratorRecord> previous, LaunchPlan plan, boolean resume,
                                   Consumer<String> progress) {
        return prepare(previous, plan, resume, progress, DataFiles.local());
    }

    /**
     * As {@link #prepare(Optional, LaunchPlan, boolean, Consumer)}, with the data files where {@code files} sees them:
     * behind a login node under {@code --remote}, where the shards will read them.
     */
    static List<ShardData> prepare(Optional<OrchestratorRecord> previous, LaunchPlan plan, boolean resume,
                                   Consumer<String> progress, DataFiles files) {
        if (!resume) {
            refuseLeftoverData(plan, files);
            return planned(plan, List.of());
        }
        List<Source> sources = choose(previous, plan, files);
        progress.accept("resuming '" + plan.id() + "' from the data of its previous run (--checkpoint "
                + plan.spec().checkpoint().orElseThrow() + ")" + (files == DataFiles.local() ? ""
                : ", data on " + files.where()));
        place(sources, progress, files);
        clearReplicas(plan, progress, files);
        return planned(plan, sources);
    }

    /**
     * A resuming replica starts empty and takes its master's data by a full sync: its own file from the previous run
     * would make it claim that data's slots at startup (and may be the copy just placed with its master). Runs after
     * {@link #place}, so a replica's file that was the newest data of its range has already been copied.
     */
    static void clearReplicas(LaunchPlan plan, Consumer<String> progress, DataFiles files) {
        // one look at every replica's files and one removal of those that exist (a command each behind a login node)
        java.util.Set<Path> present = files.facts(plan.shards().stream().filter(ShardPlan::replica)
                .flatMap(s -> Persistence.loadablePaths(s.workDir()).stream()).toList()).keySet();
        List<Path> gone = new ArrayList<>();
        List<String> said = new ArrayList<>();
        for (ShardPlan s : plan.shards()) {
            if (!s.replica()) {
                continue;
            }
            for (Path p : Persistence.loadablePaths(s.workDir())) {
                if (present.contains(p)) {
                    gone.add(p);
                    said.add("shard " + s.index() + " (replica): its previous data " + p + " removed; it takes its "
                            + "master's by a full sync");
                }
            }
        }
        try {
            files.delete(gone);
        } catch (IOException e) {
            throw new StateException("cannot remove the previous data of the replica shards (" + gone + ") on "
                    + files.where() + " (" + e.getMessage() + "); remove it by hand and resume again");
        }
        said.forEach(progress);
    }

    /** The data record of every shard at start: its path, and what was known of the data it resumes from. */
    static List<ShardData> planned(LaunchPlan plan, List<Source> sources) {
        if (plan.spec().checkpoint().isEmpty()) {
            return List.of();
        }
        Checkpoint cp = plan.spec().checkpoint().get();
        List<ShardData> out = new ArrayList<>();
        for (ShardPlan s : plan.shards()) {
            Path path = Persistence.dataPath(s.workDir(), cp, plan.spec().backend());
            Optional<ShardData> from = sources.stream().filter(x -> x.shard() == s.index()).findFirst()
                    .flatMap(Source::recorded);
            out.add(from.map(d -> new ShardData(s.index(), s.name(), cp.kind(), path, d.savedAt(), d.bytes(),
                    d.served(), d.lastSave())).orElse(ShardData.planned(s.index(), s.name(), cp.kind(), path)));
        }
        return out;
    }

    /** {@link #choose(Optional, LaunchPlan, DataFiles)} with the data on this machine's file system. */
    static List<Source> choose(Optional<OrchestratorRecord> previous, LaunchPlan plan) {
        return choose(previous, plan, DataFiles.local());
    }

    /**
     * Checks that {@code plan} can resume {@code previous}, and picks each shard's data: only after a lost allocation
     * (nothing recorded at stop) does it look at the files, through {@code files}, to find the newest.
     */
    static List<Source> choose(Optional<OrchestratorRecord> previous, LaunchPlan plan, DataFiles files) {
        String id = plan.id();
        if (previous.isEmpty()) {
            throw nothingRecorded(id, plan.expDir());
        }
        OrchestratorRecord prev = previous.get();
        Optional<Checkpoint> before = prev.spec().checkpoint();
        Optional<Checkpoint> now = plan.spec().checkpoint();
        if (before.isEmpty()) {
            throw noCheckpoint(id, plan.expDir());
        }
        if (now.isEmpty() || now.get().kind() != before.get().kind()) {
            String want = before.get().kind() == Checkpoint.Kind.AOF ? "aof" : "every=DURATION (for example "
                    + before.get() + ")";
            throw new InvalidSpecException("checkpoint", "the previous run of '" + id + "' kept "
                    + (before.get().kind() == Checkpoint.Kind.AOF ? "an append-only file (--checkpoint aof)"
                    : "RDB snapshots (--checkpoint " + before.get() + ")") + " but this start has "
                    + now.map(c -> "--checkpoint " + c).orElse("no --checkpoint") + "; a shard loads only the kind "
                    + "it writes, so resume with --checkpoint " + want + ", or leave --checkpoint out" + FROM_RECORD);
        }
        sameFileSystem(prev, plan, files);
        if (prev.spec().backend() != plan.spec().backend()) {
            throw new InvalidSpecException("backend", "the previous run of '" + id + "' used "
                    + prev.spec().backend().id() + " but this start asks for " + plan.spec().backend().id()
                    + "; their data files differ, so resume with --backend " + prev.spec().backend().id()
                    + ", or leave --backend out" + FROM_RECORD);
        }
        List<ShardPlan> oldMasters = masters(prev.plan());
        List<ShardPlan> newMasters = masters(plan);
        List<List<SlotRange>> oldLayout = oldMasters.stream().map(ShardPlan::slots).toList();
        List<List<SlotRange>> newLayout = newMasters.stream().map(ShardPlan::slots).toList();
        if (oldMasters.size() != newMasters.size() || !oldLayout.equals(newLayout)) {
            OrchestratorSpec o = prev.spec();
            OrchestratorSpec n = plan.spec();
            throw new InvalidSpecException("nodes/instancesPerNode", "the previous run of '" + id + "' kept its "
                    + "data in " + oldMasters.size() + " shard(s) (" + o.nodes() + " node(s) x " + o.instancesPerNode()
                    + " per node) but this start plans " + newMasters.size() + " (" + n.nodes() + " x "
                    + n.instancesPerNode() + "); each shard's data holds the keys of its own slot range, so resume "
                    + "with the same layout: --nodes " + o.nodes() + " --per-node " + o.instancesPerNode()
                    + ", or leave --nodes and --per-node out" + FROM_RECORD.replace("it ", "them "));
        }
        // Looked at only if some range was not recorded at stop (a lost allocation); then once, for every shard.
        java.util.function.Supplier<java.util.Map<Path, ShardShutdown.FileFacts>> seen = memo(() -> files.facts(
                Stream.concat(prev.plan().shards().stream().map(p -> Persistence.dataPath(p.workDir(), before.get(),
                        prev.spec().backend())), prev.data().stream().map(ShardData::path)).distinct().toList()));
        List<Source> out = new ArrayList<>();
        for (ShardPlan s : newMasters) {
            ShardData from = lastServer(prev, s.slots(), s.index(), path -> Optional.ofNullable(seen.get().get(path))
                    .map(ShardShutdown.FileFacts::modified));
            Path to = Persistence.dataPath(s.workDir(), now.get(), plan.spec().backend());
            out.add(new Source(s.index(), s.slots(), from.path(), to,
                    prev.data().stream().anyMatch(d -> d == from) ? Optional.of(from) : Optional.empty()));
        }
        return out;
    }

    /**
     * The data to resume the range {@code slots} from: the process that served it last. A shard recorded at stop as
     * master of exactly this range wins (the newest save first). Otherwise (a lost allocation: nothing was recorded at
     * stop) the candidates are the range's planned master (shard {@code index}) and its replicas, and the one whose
     * data was written last wins: a replica promoted during the run kept saving after its old master died. With no
     * data anywhere, the planned master's path (it then starts empty).
     *
     * @param modified when the data at a path was last written, if it exists and can be read from here
     */
    static ShardData lastServer(OrchestratorRecord prev, List<SlotRange> slots, int index,
                                java.util.function.Function<Path, Optional<Instant>> modified) {
        Optional<ShardData> seen = prev.data().stream().filter(d -> !slots.isEmpty() && d.served().equals(slots))
                .max(Comparator.comparing(d -> d.savedAt().orElse(Instant.EPOCH)));
        if (seen.isPresent()) {
            return seen.get();
        }
        Checkpoint cp = prev.spec().checkpoint().orElseThrow();
        List<ShardData> candidates = new ArrayList<>();
        for (ShardPlan p : prev.plan().shards()) {
            if (p.index() == index || p.replicaOf().equals(Optional.of(index))) {
                candidates.add(prev.data().stream().filter(d -> d.index() == p.index()).findFirst()
                        .orElse(ShardData.planned(p.index(), p.name(), cp.kind(),
                                Persistence.dataPath(p.workDir(), cp, prev.spec().backend()))));
            }
        }
        ShardData master = candidates.stream().filter(d -> d.index() == index).findFirst().orElseThrow();
        ShardData best = master;
        Instant bestAt = modified.apply(master.path()).orElse(null);
        for (ShardData c : candidates) {
            Optional<Instant> at = modified.apply(c.path());
            if (at.isPresent() && (bestAt == null || at.get().isAfter(bestAt))) {
                best = c;
                bestAt = at.get();
            }
        }
        return best;
    }

    private static <T> java.util.function.Supplier<T> memo(java.util.function.Supplier<T> get) {
        return new java.util.function.Supplier<>() {
            private T value;

            @Override
            public T get() {
                if (value == null) {
                    value = get.get();
                }
                return value;
            }
        };
    }

    private static List<ShardPlan> masters(LaunchPlan plan) {
        if (!plan.clustered()) {
            return plan.shards().subList(0, 1);
        }
        return plan.shards().stream().filter(s -> !s.slots().isEmpty()).toList();
    }

    /**
     * The previous run's data is where its transport put it: on this machine's file system (or one shared with the
     * nodes), or on the cluster's behind the login node of {@code --remote}. A resume through another transport (with
     * or without {@code --remote}, another login node) is fine when the data is visible through it too (someone now
     * working on the login node itself); when none of it is, it is refused, naming both sides: the files would be
     * looked for in the wrong place and every shard would start empty.
     */
    static void sameFileSystem(OrchestratorRecord prev, LaunchPlan plan, DataFiles files) {
        Optional<String> before = remoteOf(prev.spec());
        Optional<String> now = remoteOf(plan.spec());
        if (before.equals(now)) {
            return;
        }
        Checkpoint cp = prev.spec().checkpoint().orElseThrow();
        List<Path> paths = Stream.concat(prev.plan().shards().stream().map(p -> Persistence.dataPath(p.workDir(), cp,
                prev.spec().backend())), prev.data().stream().map(ShardData::path)).distinct().toList();
        if (!files.facts(paths).isEmpty()) {
            return;
        }
        throw new InvalidSpecException("launcherOptions." + Transports.REMOTE, "the previous run of '" + plan.id()
                + "' kept its data " + before.map(r -> "on the cluster behind --remote " + r)
                .orElse("on this machine's file system (no --remote)") + " but this start "
                + now.map(r -> "goes through --remote " + r).orElse("has no --remote") + ", and none of its data is "
                + "on " + files.where() + " under " + prev.plan().dir() + "; the data is read where the shards run, "
                + "so resume " + before.map(r -> "with --remote " + r).orElse("without --remote") + " (or copy "
                + prev.plan().dir() + " there first)");
    }

    private static Optional<String> remoteOf(OrchestratorSpec spec) {
        return Optional.ofNullable(Transports.options(spec.launcherOptions()).get(Transports.REMOTE))
                .map(r -> r.replaceFirst("^" + Transports.DEFAULT_SCHEME + "://", ""));
    }

    /** {@link #place(List, Consumer, DataFiles)} on this machine's file system. */
    static void place(List<Source> sources, Consumer<String> progress) {
        place(sources, progress, DataFiles.local());
    }

    /**
     * Copies data kept elsewhere into each shard's directory, and says what each shard resumes from. Data recorded
     * as saved at stop that is not there (deleted, or not visible where the shards run) fails the resume, having
     * started nothing: the shard would start empty and the resume would look like a success.
     */
    static void place(List<Source> sources, Consumer<String> progress, DataFiles files) {
        // One look at every source and destination, one more at the copies (one command each behind a login node).
        java.util.Map<Path, ShardShutdown.FileFacts> known = new java.util.HashMap<>(files.facts(sources.stream()
                .flatMap(s -> Stream.of(s.from(), s.to())).distinct().toList()));
        List<Path> copied = new ArrayList<>();
        for (Source s : sources) {
            try {
                if (!s.from().equals(s.to()) && known.containsKey(s.from())) {
                    files.copy(s.from(), s.to());
                    copied.add(s.to());
                }
            } catch (IOException e) {
                throw new LaunchException("cannot put the data of shard " + s.shard() + " in place (" + s.from()
                        + " -> " + s.to() + "): " + e.getMessage() + "; nothing was started", e);
            }
        }
        copied.forEach(known::remove);
        known.putAll(files.facts(copied));
        for (Source s : sources) {
            Optional<ShardShutdown.FileFacts> facts = Optional.ofNullable(known.get(s.to()));
            Optional<ShardData> saved = s.recorded().filter(d -> d.bytes().orElse(0L) > 0);
            if (facts.isEmpty() && saved.isPresent()) {
                throw new StateException("cannot resume shard " + s.shard() + ": its data was saved at stop ("
                        + saved.get().lastSave().orElse("saved") + ", " + saved.get().bytes().orElseThrow()
                        + " bytes) to " + s.from() + ", but there is no such data on " + files.where() + "; "
                        + "resume where that file is (the same --exp-dir, and the same --remote if the run had "
                        + "one), or, to start empty, start without --resume after deleting the rest of its data");
            }
            progress.accept(facts.map(f -> "shard " + s.shard() + " (slots " + s.slots().stream()
                    .map(SlotRange::toString).reduce((a, b) -> a + "," + b).orElse("all") + "): resuming from "
                    + s.to() + " (" + f.bytes() + " bytes, last written " + f.modified() + ")"
                    + (s.from().equals(s.to()) ? "" : ", copied from " + s.from()))
                    .orElse("shard " + s.shard() + ": no data at " + s.to() + " (nothing was saved before it "
                            + "stopped); it starts empty"));
        }
    }

    /**
     * Refuses a start (not a resume) over data files an earlier run left in the shards' directories: each server
     * would load its file at start, silently bringing old keys back.
     */
    static void refuseLeftoverData(LaunchPlan plan, DataFiles files) {
        List<Path> found = List.copyOf(files.facts(plan.shards().stream()
                .flatMap(s -> Persistence.loadablePaths(s.workDir()).stream()).toList()).keySet());
        if (found.isEmpty()) {
            return;
        }
        throw new StateException("orchestrator '" + plan.id() + "' has data from an earlier run in " + plan.dir()
                + (files == DataFiles.local() ? "" : " on " + files.where()) + " (" + found.size() + " file(s): " + String.join(", ", found.stream().limit(3).map(Path::toString)
                .toList()) + (found.size() > 3 ? ", ..." : "") + "), which its shards would load at start; "
                + "resume it with 'db start --resume' (and the same --checkpoint), or delete those files to start "
                + "empty");
    }
}
