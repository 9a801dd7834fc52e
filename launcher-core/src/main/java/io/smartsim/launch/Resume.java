package io.smartsim.launch;

import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.manifest.ShardData;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.plan.Persistence;
import io.smartsim.launch.plan.ShardPlan;
import io.smartsim.launch.plan.SlotRange;
import io.smartsim.launch.security.OwnerOnly;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
 * recorded at stop as master of the range wins, newest save first (that is how a replica promoted during the run,
 * once replicas exist, would be picked), otherwise the range's planned master. Data from another shard's directory
 * is copied into the resuming shard's directory before it starts.
 */
final class Resume {
    private Resume() {
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
        if (!resume) {
            refuseLeftoverData(plan);
            return planned(plan, List.of());
        }
        List<Source> sources = choose(previous, plan);
        progress.accept("resuming '" + plan.id() + "' from the data of its previous run (--checkpoint "
                + plan.spec().checkpoint().orElseThrow() + ")");
        place(sources, progress);
        return planned(plan, sources);
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

    /** Checks that {@code plan} can resume {@code previous}, and picks each shard's data. Pure: reads no files. */
    static List<Source> choose(Optional<OrchestratorRecord> previous, LaunchPlan plan) {
        String id = plan.id();
        if (previous.isEmpty()) {
            throw new StateException("nothing to resume: no orchestrator '" + id + "' is recorded in " + plan.expDir()
                    + " (a first run?); start it without --resume, or give the --exp-dir and --name it ran with");
        }
        OrchestratorRecord prev = previous.get();
        Optional<Checkpoint> before = prev.spec().checkpoint();
        Optional<Checkpoint> now = plan.spec().checkpoint();
        if (before.isEmpty()) {
            throw new StateException("nothing to resume: orchestrator '" + id + "' in " + plan.expDir() + " ran "
                    + "without --checkpoint, so it kept no data; start it without --resume");
        }
        if (now.isEmpty() || now.get().kind() != before.get().kind()) {
            String want = before.get().kind() == Checkpoint.Kind.AOF ? "aof" : "every=DURATION (for example "
                    + before.get() + ")";
            throw new InvalidSpecException("checkpoint", "the previous run of '" + id + "' kept "
                    + (before.get().kind() == Checkpoint.Kind.AOF ? "an append-only file (--checkpoint aof)"
                    : "RDB snapshots (--checkpoint " + before.get() + ")") + " but this start has "
                    + now.map(c -> "--checkpoint " + c).orElse("no --checkpoint") + "; a shard loads only the kind "
                    + "it writes, so resume with --checkpoint " + want);
        }
        if (prev.spec().backend() != plan.spec().backend()) {
            throw new InvalidSpecException("backend", "the previous run of '" + id + "' used "
                    + prev.spec().backend().id() + " but this start asks for " + plan.spec().backend().id()
                    + "; their data files differ, so resume with --backend " + prev.spec().backend().id());
        }
        List<ShardPlan> oldMasters = masters(prev.plan());
        List<ShardPlan> newMasters = masters(plan);
        List<List<SlotRange>> oldLayout = oldMasters.stream().map(ShardPlan::slots).toList();
        List<List<SlotRange>> newLayout = newMasters.stream().map(ShardPlan::slots).toList();
        if (oldMasters.size() != newMasters.size() || !oldLayout.equals(newLayout)) {
            OrchestratorSpec o = prev.spec();
            OrchestratorSpec n = plan.spec();
            throw new InvalidSpecException("nodes", "the previous run of '" + id + "' kept its data in "
                    + oldMasters.size() + " shard(s) (" + o.nodes() + " node(s) x " + o.instancesPerNode()
                    + " per node) but this start plans " + newMasters.size() + " (" + n.nodes() + " x "
                    + n.instancesPerNode() + "); each shard's data holds the keys of its own slot range, so resume "
                    + "with the same layout: --nodes " + o.nodes() + " --per-node " + o.instancesPerNode());
        }
        List<Source> out = new ArrayList<>();
        for (ShardPlan s : newMasters) {
            ShardData from = lastServer(prev, s.slots(), s.index());
            Path to = Persistence.dataPath(s.workDir(), now.get(), plan.spec().backend());
            out.add(new Source(s.index(), s.slots(), from.path(), to,
                    prev.data().stream().anyMatch(d -> d == from) ? Optional.of(from) : Optional.empty()));
        }
        return out;
    }

    /**
     * The data to resume the range {@code slots} from: the process that served it last. A shard recorded at stop as
     * master of exactly this range wins (the newest save first); otherwise the range's planned master in the
     * previous plan (shard {@code index}, the one that held it unless a failover moved it).
     *
     * <p>Hook for replicas: a replica promoted during the run is found here when a stop recorded it as the range's
     * master. After a lost allocation nothing is recorded at stop; then the candidates should be the range's master
     * and its replicas, and the newest file among them chosen. That needs the replicas' roles in the plan (not in
     * this build) and is not tested here.
     */
    static ShardData lastServer(OrchestratorRecord prev, List<SlotRange> slots, int index) {
        Optional<ShardData> seen = prev.data().stream().filter(d -> !slots.isEmpty() && d.served().equals(slots))
                .max(Comparator.comparing(d -> d.savedAt().orElse(Instant.EPOCH)));
        if (seen.isPresent()) {
            return seen.get();
        }
        Optional<ShardData> recorded = prev.data().stream().filter(d -> d.index() == index).findFirst();
        if (recorded.isPresent()) {
            return recorded.get();
        }
        ShardPlan old = prev.plan().shards().get(index);
        Checkpoint cp = prev.spec().checkpoint().orElseThrow();
        return ShardData.planned(index, old.name(), cp.kind(), Persistence.dataPath(old.workDir(), cp,
                prev.spec().backend()));
    }

    private static List<ShardPlan> masters(LaunchPlan plan) {
        if (!plan.clustered()) {
            return plan.shards().subList(0, 1);
        }
        return plan.shards().stream().filter(s -> !s.slots().isEmpty()).toList();
    }

    /** Copies data kept elsewhere into each shard's directory, and says what each shard resumes from. */
    static void place(List<Source> sources, Consumer<String> progress) {
        for (Source s : sources) {
            try {
                if (!s.from().equals(s.to()) && Files.exists(s.from())) {
                    OwnerOnly.createDirectory(s.to().getParent());
                    copy(s.from(), s.to());
                }
                Optional<ShardShutdown.FileFacts> facts = ShardShutdown.FileFacts.of(s.to());
                progress.accept(facts.map(f -> "shard " + s.shard() + " (slots " + s.slots().stream()
                        .map(SlotRange::toString).reduce((a, b) -> a + "," + b).orElse("all") + "): resuming from "
                        + s.to() + " (" + f.bytes() + " bytes, last written " + f.modified() + ")"
                        + (s.from().equals(s.to()) ? "" : ", copied from " + s.from()))
                        .orElse("shard " + s.shard() + ": no data at " + s.to() + " (nothing was saved before it "
                                + "stopped); it starts empty"));
            } catch (IOException e) {
                throw new LaunchException("cannot put the data of shard " + s.shard() + " in place (" + s.from()
                        + " -> " + s.to() + "): " + e.getMessage() + "; nothing was started", e);
            }
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        if (Files.isDirectory(from)) {
            OwnerOnly.createDirectory(to);
            try (Stream<Path> files = Files.list(from)) {
                for (Path f : files.toList()) {
                    copy(f, to.resolve(f.getFileName().toString()));
                }
            }
        } else {
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
            OwnerOnly.restrict(to, OwnerOnly.FILE);
        }
    }

    /**
     * Refuses a start (not a resume) over data files an earlier run left in the shards' directories: each server
     * would load its file at start, silently bringing old keys back.
     */
    static void refuseLeftoverData(LaunchPlan plan) {
        List<Path> found = plan.shards().stream().flatMap(s -> Persistence.loadablePaths(s.workDir()).stream())
                .filter(Files::exists).toList();
        if (found.isEmpty()) {
            return;
        }
        throw new StateException("orchestrator '" + plan.id() + "' has data from an earlier run in " + plan.dir()
                + " (" + found.size() + " file(s): " + String.join(", ", found.stream().limit(3).map(Path::toString)
                .toList()) + (found.size() > 3 ? ", ..." : "") + "), which its shards would load at start; "
                + "resume it with 'db start --resume' (and the same --checkpoint), or delete those files to start "
                + "empty");
    }
}
