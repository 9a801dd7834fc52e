package io.smartsim.launch.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.status.ShardDataNow;
import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.status.ColocatedNode;
import io.smartsim.launch.status.ShardHealth;
import io.smartsim.launch.status.SupervisionStatus;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.status.ShardData;
import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.status.ModelServerStatus;
import io.smartsim.launch.status.ShardSample;
import io.smartsim.launch.status.TelemetryStatus;
import io.smartsim.launch.spec.Durations;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;

/** {@code db status}: the manifest's orchestrators checked against their processes and the databases. */
@Command(name = "status",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        description = {"Check orchestrators recorded in the experiment's manifest: per shard whether its process "
                + "exists, whether it answers (a hung one is reported within 2 s), its role (master, or replica "
                + "of which shard; a promoted replica shows its planned role beside it), hash slots, keys, memory "
                + "and clients; then the cluster state, how many slots are served and processes up, and the "
                + "orchestrator's state:",
                "  RUNNING    healthy: every planned process up and answering, every slot served, cluster ok",
                "  UNHEALTHY  processes up, but a shard does not answer (hung) or the cluster is not ok",
                "  DEGRADED   some of its processes are gone; 'all 16384 slots served' beside it means a replica "
                        + "took over (still serving, redundancy lost), otherwise the lost slots are named",
                "  STALE      recorded as running, but every process is gone",
                "  STOPPED, FAILED, STARTING  as recorded",
                "Then its supervision (--restart, --lease: when the lease runs out, the watchdog's pid) and its last "
                        + "events (shard down, restarted, rejoined, gave up, lease expired, ...); --json has every "
                        + "event. See docs/supervision.md."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:Every orchestrator shown is RUNNING (healthy).",
                "1:At least one is not serving all its slots (or not RUNNING and not case 3), or there is no "
                        + "(readable) manifest, or the id is unknown.",
                Errors.EXIT_DOC_USAGE,
                "3:Every orchestrator shown serves all its slots, but at least one is DEGRADED: a process is gone "
                        + "(for example a master whose replica took over), so a further failure may lose data."})
public final class DbStatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ExpDirOption expDir;

    @Option(names = "--name", paramLabel = "ID", order = 1,
            description = "Only this orchestrator (default: every orchestrator in the manifest).")
    String name;

    @Mixin
    OutputOptions output;

    /** What {@code --json} prints. */
    record Report(String experiment, Path manifest, boolean healthy, List<Entry> orchestrators,
                  Map<String, List<ColocatedNode>> colocated) {
        Report(String experiment, Path manifest, boolean healthy, List<Entry> orchestrators) {
            this(experiment, manifest, healthy, orchestrators, Map.of());
        }
    }

    /**
     * {@code serving}: clients reach every slot now (a DEGRADED orchestrator can be serving: a replica took over);
     * {@code summary}: slots served and processes up, in words.
     */
    record Entry(String id, String launcher, String recorded, String state, boolean healthy, String clusterState,
                 String ssdb, List<Shard> shards, List<String> problems, String error, boolean serving,
                 String summary, List<ShardData> data, Supervision supervision, List<ShardDataNow> dataNow,
                 Telemetry telemetry, List<ModelServer> modelServers) {
        Entry {
            data = data == null ? List.of() : List.copyOf(data);
            dataNow = dataNow == null ? List.of() : List.copyOf(dataNow);
            modelServers = modelServers == null ? List.of() : List.copyOf(modelServers);
        }

        Entry(String id, String launcher, String recorded, String state, boolean healthy, String clusterState,
              String ssdb, List<Shard> shards, List<String> problems, String error, boolean serving, String summary,
              List<ShardData> data, Supervision supervision, List<ShardDataNow> dataNow, Telemetry telemetry) {
            this(id, launcher, recorded, state, healthy, clusterState, ssdb, shards, problems, error, serving, summary,
                    data, supervision, dataNow, telemetry, List.of());
        }

        Entry with(List<ModelServer> m) {
            return new Entry(id, launcher, recorded, state, healthy, clusterState, ssdb, shards, problems, error,
                    serving, summary, data, supervision, dataNow, telemetry, m);
        }

        Entry(String id, String launcher, String recorded, String state, boolean healthy, String clusterState,
              String ssdb, List<Shard> shards, List<String> problems, String error, boolean serving, String summary,
              List<ShardData> data, Supervision supervision) {
            this(id, launcher, recorded, state, healthy, clusterState, ssdb, shards, problems, error, serving, summary,
                    data, supervision, List.of(), null);
        }

        Entry(String id, String launcher, String recorded, String state, boolean healthy, String clusterState,
              String ssdb, List<Shard> shards, List<String> problems, String error, boolean serving, String summary) {
            this(id, launcher, recorded, state, healthy, clusterState, ssdb, shards, problems, error, serving, summary,
                    List.of(), null);
        }

        Entry(String id, String launcher, String recorded, String state, boolean healthy, String clusterState,
              String ssdb, List<Shard> shards, List<String> problems, String error) {
            this(id, launcher, recorded, state, healthy, clusterState, ssdb, shards, problems, error, healthy, null);
        }

        Entry withData(List<ShardData> d) {
            return new Entry(id, launcher, recorded, state, healthy, clusterState, ssdb, shards, problems, error,
                    serving, summary, d, supervision, dataNow, telemetry, modelServers);
        }

        Entry with(Supervision s) {
            return new Entry(id, launcher, recorded, state, healthy, clusterState, ssdb, shards, problems, error,
                    serving, summary, data, s, dataNow, telemetry, modelServers);
        }

        Entry with(Telemetry t) {
            return new Entry(id, launcher, recorded, state, healthy, clusterState, ssdb, shards, problems, error,
                    serving, summary, data, supervision, dataNow, t, modelServers);
        }

        Entry withDataNow(List<ShardDataNow> d) {
            return new Entry(id, launcher, recorded, state, healthy, clusterState, ssdb, shards, problems, error,
                    serving, summary, data, supervision, d, telemetry, modelServers);
        }
    }

    /**
     * Under {@code --ai} with the Redis module: a host's model server as its shards record it; {@code process} is
     * "alive", "gone" or "unknown", as the orchestrator's launcher answers ({@link Experiment#modelServers}).
     */
    record ModelServer(String socket, Long pid, String process, List<Integer> shards) {
        static ModelServer of(ModelServerStatus m) {
            return new ModelServer(m.socket(), m.pid().orElse(null), m.process().name().toLowerCase(Locale.ROOT),
                    m.shards());
        }
    }

    /**
     * {@code --restart}, {@code --lease} and the events log: {@code lease} as given ("10m"), when it runs out, the
     * watchdog process {@code db start} left, and every event (the text output shows the last {@value #RECENT}).
     */
    record Supervision(String restart, String lease, Instant leaseExpires, boolean leaseExpired, Long watchdogPid,
                       boolean watchdogAlive, List<Event> events) {
        static Supervision of(SupervisionStatus s) {
            return new Supervision(s.restart().id(), s.lease().map(Durations::format).orElse(null),
                    s.leaseExpiry().orElse(null), s.leaseExpired(), s.watchdogPid().orElse(null), s.watchdogAlive(),
                    s.events());
        }
    }

    static final int RECENT = 5;

    /**
     * {@code --telemetry}: whether the collector records this orchestrator, how often, where, and each shard's last
     * recorded sample (docs/telemetry.md), as {@link Experiment#telemetry} reads them; {@code latest} is empty when
     * nothing was recorded.
     */
    record Telemetry(boolean on, String interval, Path file, List<Latest> latest) {
        static Telemetry of(TelemetryStatus t, Instant now) {
            return new Telemetry(t.on(), Durations.format(t.interval()), t.file(),
                    t.latest().stream().map(s -> Latest.of(s, now)).toList());
        }
    }

    /** A shard's last recorded sample: when, how old now, and the figures people look at first. */
    record Latest(int shard, String address, Instant time, double ageSeconds, boolean reachable, String error,
                  Long usedMemory, Long opsPerSec, Long clients, Long keys) {
        static Latest of(ShardSample s, Instant now) {
            return new Latest(s.shard(), s.address(), s.time(), Math.max(0, Duration.between(s.time(), now)
                    .toMillis()) / 1000.0, s.reachable(), s.error(), s.usedMemory(), s.opsPerSec(), s.clients(),
                    s.keys());
        }
    }

    /**
     * {@code jobId}, {@code stepId}, {@code node}: scheduler ids from the launcher's handle (Slurm); else null.
     * {@code role}: what the shard says now (master or slave); {@code plannedRole}: "master" or "replica of K";
     * {@code replicaOf}: for a replica now, its master's address; {@code masterLink}: its replication link (up/down).
     */
    record Shard(int index, String name, String address, Long pid, String process, Boolean reachable, String role,
                 List<SlotRange> slots, Long keys, Long usedMemory, String usedMemoryHuman, Long connectedClients,
                 String problem, String jobId, String stepId, String node, String plannedRole, String replicaOf,
                 String masterLink) {
        Shard(int index, String name, String address, Long pid, String process, Boolean reachable, String role,
              List<SlotRange> slots, Long keys, Long usedMemory, String usedMemoryHuman, Long connectedClients,
              String problem, String jobId, String stepId, String node) {
            this(index, name, address, pid, process, reachable, role, slots, keys, usedMemory, usedMemoryHuman,
                    connectedClients, problem, jobId, stepId, node, null, null, null);
        }

        /** The ROLE cell: "master", "replica of 0" (the master's shard index where known), and the planned role when
         *  Redis has swapped them (a promoted replica). */
        String roleCell(Map<String, Integer> indexByAddress) {
            if (role == null) {
                return plannedRole == null ? "-" : "- (planned " + plannedRole + ")";
            }
            String now = "slave".equals(role) ? "replica of " + (replicaOf == null ? "?"
                    : indexByAddress.containsKey(replicaOf) ? indexByAddress.get(replicaOf).toString() : replicaOf)
                    : role;
            return plannedRole == null || plannedRole.equals(now) ? now : now + " (planned " + plannedRole + ")";
        }
    }

    @Override
    public Integer call() throws JsonProcessingException {
        Report report;
        try (Experiment exp = Experiment.reconnect(expDir.dir())) {
            List<OrchestratorStatus> statuses = name == null ? exp.statuses() : List.of(exp.status(name));
            List<Entry> entries = statuses.stream().map(s -> entry(s, exp.modelServers(s))
                            .withData(exp.checkpointData(s.id()))
                            .withDataNow(exp.checkpointDataNow(s)).with(Supervision.of(exp.supervision(s.id())))
                            .with(Telemetry.of(exp.telemetry(s.id()), Instant.now())))
                    .toList();
            report = new Report(exp.name(), exp.manifestFile(), !entries.isEmpty()
                    && entries.stream().allMatch(Entry::healthy), entries,
                    name == null ? exp.colocatedDatabases() : Map.of());
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
            out.println(Json.mapper().writeValueAsString(report));
        } else {
            out.print(render(report));
        }
        out.flush();
        return report.healthy() ? Errors.OK : !report.orchestrators().isEmpty()
                && report.orchestrators().stream().allMatch(Entry::serving) ? DEGRADED_SERVING : Errors.FAILED;
    }

    /** Exit code: every orchestrator serves all its slots, but one is DEGRADED (a process gone). */
    static final int DEGRADED_SERVING = 3;

    static Entry entry(OrchestratorStatus s, List<ModelServerStatus> modelServers) {
        Map<Integer, ShardHealth> health = s.health().map(HealthReport::shards).orElse(List.of()).stream()
                .collect(Collectors.toMap(ShardHealth::index, Function.identity()));
        List<Shard> shards = new ArrayList<>();
        for (LaunchedShard ls : s.shards()) {
            Liveness live = s.liveness().get(ls.index());
            ShardHealth h = health.get(ls.index());
            String planned = s.plannedRoles().get(ls.index());
            shards.add(h == null
                    ? new Shard(ls.index(), ls.name(), ls.address(), ls.pid().orElse(null), process(live), null, null,
                    List.of(), null, null, null, null, null, ls.handle().get("jobId"), ls.handle().get("stepId"),
                    ls.handle().get("node"), planned, null, null)
                    : new Shard(ls.index(), ls.name(), ls.address(), ls.pid().orElse(null), process(live),
                    h.reachable(), h.reachable() ? h.role() : null, h.slots(), h.keys(), h.usedMemory(),
                    Text.bytes(h.usedMemory()), h.connectedClients(), h.problem().orElse(null),
                    ls.handle().get("jobId"), ls.handle().get("stepId"), ls.handle().get("node"), planned,
                    h.master().orElse(null), h.masterLink().orElse(null)));
        }
        String ssdb = s.shards().stream().map(LaunchedShard::address).collect(Collectors.joining(","));
        return new Entry(s.id(), s.launcher(), s.recorded().name(), s.state(), s.healthy(),
                s.health().map(HealthReport::clusterState).orElse(null), ssdb, shards,
                s.health().map(HealthReport::problems).orElse(List.of()), s.error().orElse(null), s.serving(),
                s.health().map(HealthReport::summary).orElse(null))
                .with(modelServers.stream().map(ModelServer::of).toList());
    }

    private static String process(Liveness live) {
        return live == null ? "not checked" : live.name().toLowerCase(Locale.ROOT);
    }

    static String render(Report r) {
        StringBuilder sb = new StringBuilder();
        if (r.orchestrators().isEmpty()) {
            sb.append("no orchestrators recorded in ").append(r.manifest()).append('\n');
            colocated(sb, r);
            return sb.toString();
        }
        for (Entry e : r.orchestrators()) {
            sb.append("orchestrator '").append(e.id()).append("' of experiment '").append(r.experiment())
                    .append("': ").append(e.state());
            boolean servingDegraded = "DEGRADED".equals(e.state()) && e.serving();
            if (servingDegraded) {
                sb.append(", serving"); // a replica took over: clients see a healthy cluster, with less redundancy
            }
            if (e.clusterState() != null) {
                sb.append(" (cluster state ").append(e.clusterState())
                        // healthy says it all; otherwise how much is still served and how many processes are up
                        .append(e.summary() == null || e.healthy() ? "" : "; " + e.summary())
                        .append(servingDegraded ? "; redundancy lost until the gone process is back" : "").append(')');
            }
            sb.append('\n');
            sb.append("  launcher ").append(e.launcher()).append(", recorded ").append(e.recorded());
            if (!e.ssdb().isEmpty()) {
                sb.append(", SSDB=").append(e.ssdb());
            }
            sb.append('\n');
            // JOB, STEP and NODE only for shards a scheduler runs (a job id recorded: Slurm). The local launcher
            // records its host's short name as the node but no job, and keeps its table as it was (the node is in
            // --json).
            boolean scheduled = e.shards().stream().anyMatch(x -> x.jobId() != null || x.stepId() != null);
            Map<String, Integer> indexByAddress = new java.util.HashMap<>();
            e.shards().forEach(x -> indexByAddress.put(x.address(), x.index()));
            List<List<String>> rows = new ArrayList<>();
            for (Shard x : e.shards()) {
                List<String> row = new ArrayList<>(List.of(Integer.toString(x.index()), x.address(),
                        x.pid() == null ? "-" : x.pid().toString()));
                if (scheduled) {
                    row.addAll(List.of(dash(x.jobId()), dash(x.stepId()), dash(x.node())));
                }
                row.addAll(List.of(x.process(), x.reachable() == null ? "-" : x.reachable() ? "yes" : "no",
                        x.roleCell(indexByAddress), x.reachable() == null ? "-" : Text.slots(x.slots()), dash(x.keys()),
                        dash(x.usedMemoryHuman()), dash(x.connectedClients())));
                rows.add(row);
            }
            List<String> headers = new ArrayList<>(List.of("SHARD", "ADDRESS", "PID"));
            if (scheduled) {
                headers.addAll(List.of("JOB", "STEP", "NODE"));
            }
            headers.addAll(List.of("PROCESS", "REACHABLE", "ROLE", "SLOTS", "KEYS", "MEMORY", "CLIENTS"));
            boolean checked = e.shards().stream()
                    .anyMatch(x -> x.reachable() != null || !"not checked".equals(x.process()));
            if (checked) {
                sb.append(Text.table("  ", headers, rows));
            }
            e.problems().forEach(p -> sb.append("  problem: ").append(p).append('\n'));
            for (ModelServer m : e.modelServers()) {
                sb.append("  model server (--ai) of shard(s) ").append(m.shards().stream().map(String::valueOf)
                        .collect(Collectors.joining(","))).append(": ").append(m.process().equals("alive") ? "up"
                        : m.process().equals("unknown") ? "unknown (its launcher, host or shards did not answer)"
                        : "DOWN (model commands fail naming its socket; data commands work)").append(", pid ")
                        .append(m.pid()).append(", socket ").append(m.socket()).append('\n');
            }
            renderData(sb, e);
            Optional.ofNullable(e.error()).filter(x -> !e.problems().contains(x))
                    .ifPresent(x -> sb.append("  ").append(e.healthy() ? "note" : "error").append(": ").append(x)
                            .append('\n'));
            if (e.supervision() != null) {
                sb.append(supervision(e.supervision(), e.recorded()));
            }
        }
        if (r.orchestrators().size() > 1) {
            long ok = r.orchestrators().stream().filter(Entry::healthy).count();
            sb.append("overall: ").append(r.healthy() ? "healthy" : "not healthy").append(" (").append(ok)
                    .append(" of ").append(r.orchestrators().size()).append(" orchestrators RUNNING)\n");
        }
        colocated(sb, r);
        return sb.toString();
    }

    /** The models' colocated databases by node (docs/colocated.md): not part of the exit code. */
    private static void colocated(StringBuilder sb, Report r) {
        if (r.colocated() == null || r.colocated().isEmpty()) {
            return;
        }
        r.colocated().forEach((model, nodes) -> {
            sb.append("colocated databases of model '").append(model).append("':\n");
            sb.append(Text.table("  ", List.of("NODE", "ADDRESS", "PID", "HEALTH", "LOG"), nodes.stream()
                    .map(n -> List.of(n.node(), n.address(), Long.toString(n.pid()), n.health(), n.log().toString()))
                    .toList()));
        });
    }

    /**
     * {@code --checkpoint}: one line on the data kept (how much, the oldest save), and a line for each shard whose
     * last save is not known to be good, so that a failed save stands out among many shards.
     */
    static void renderData(StringBuilder sb, Entry e) {
        if (!e.dataNow().isEmpty()) {
            renderDataNow(sb, e.dataNow());
            return;
        }
        if (e.data().isEmpty()) {
            return;
        }
        long bytes = e.data().stream().mapToLong(d -> d.bytes().orElse(0L)).sum();
        long withData = e.data().stream().filter(d -> d.bytes().isPresent()).count();
        Optional<java.time.Instant> oldest = e.data().stream().flatMap(d -> d.savedAt().stream())
                .min(java.util.Comparator.naturalOrder());
        ShardData first = e.data().get(0);
        sb.append("  data (").append(first.kind().name()).append("): ").append(withData).append(" of ")
                .append(e.data().size()).append(" shard(s) with data on record, ").append(Text.bytes(bytes))
                .append(oldest.map(t -> ", oldest save " + t).orElse("")).append("; under ")
                .append(first.path().getParent().getParent()).append('\n');
        for (ShardData d : e.data()) {
            String words = d.lastSave().orElse("");
            if (!words.isEmpty() && !words.startsWith("saved by") && !words.startsWith("AOF flushed")) {
                sb.append("  data of shard ").append(d.index()).append(": ").append(words).append('\n');
            }
        }
    }

    /**
     * A running orchestrator's checkpoint data now: one line on what is on disk, then per shard its file, size, when it
     * was written, the server's last save, the save's status and the writes not saved yet.
     */
    static void renderDataNow(StringBuilder sb, List<ShardDataNow> now) {
        long bytes = now.stream().mapToLong(d -> d.bytes().orElse(0L)).sum();
        long withData = now.stream().filter(d -> d.bytes().orElse(0L) > 0).count();
        Path under = now.get(0).path().getParent().getParent();
        sb.append("  data (").append(now.get(0).kind().name()).append(") now: ").append(withData).append(" of ")
                .append(now.size()).append(" shard(s) with data on disk, ").append(Text.bytes(bytes))
                .append("; under ").append(under).append('\n');
        List<List<String>> rows = new ArrayList<>();
        for (ShardDataNow d : now) {
            rows.add(List.of(Integer.toString(d.index()), under.relativize(d.path()).toString(),
                    d.bytes().map(Text::bytes).orElse("-"), d.written().map(DbStatusCommand::seconds).orElse("-"),
                    d.lastSave().map(DbStatusCommand::seconds).orElse("-"),
                    d.status().map(x -> d.saving() ? x + " (saving now)" : x).orElse("-"),
                    d.changesSinceSave().map(String::valueOf).orElse("-")));
        }
        sb.append(Text.table("    ", List.of("SHARD", "FILE", "ON DISK", "WRITTEN", "LAST SAVE", "STATUS", "UNSAVED"),
                rows));
    }

    private static String seconds(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** The supervision line and the last {@value #RECENT} events, as a table. */
    static String supervision(Supervision s, String recorded) {
        StringBuilder sb = new StringBuilder();
        List<String> parts = new ArrayList<>();
        if (!"no".equals(s.restart())) {
            parts.add("restart " + s.restart());
        }
        if (s.lease() != null) {
            parts.add("lease " + s.lease() + (s.leaseExpires() == null ? " (no lease file)" : s.leaseExpired()
                    ? ", ran out at " + s.leaseExpires() : ", runs out at " + s.leaseExpires() + " (in "
                    + Math.max(0, s.leaseExpires().getEpochSecond() - Instant.now().getEpochSecond()) + " s)"));
        }
        if (s.watchdogPid() != null && ("RUNNING".equals(recorded) || s.watchdogAlive())) {
            parts.add("watchdog pid " + s.watchdogPid() + (s.watchdogAlive() ? "" : " (gone)"));
        }
        if (!parts.isEmpty()) {
            sb.append("  supervision: ").append(String.join(", ", parts)).append('\n');
        }
        if (!s.events().isEmpty()) {
            List<Event> recent = s.events().subList(Math.max(0, s.events().size() - RECENT), s.events().size());
            sb.append("  events (last ").append(recent.size()).append(" of ").append(s.events().size())
                    .append("; all with --json):\n");
            sb.append(Text.table("    ", List.of("TIME", "EVENT", "SHARD", "DETAIL"), recent.stream()
                    .map(ev -> List.of(ev.time().truncatedTo(ChronoUnit.SECONDS).toString(), ev.type(),
                            ev.shard().map(String::valueOf).orElse("-"), ev.detail()))
                    .toList()));
        }
        return sb.toString();
    }

    private static String dash(Object o) {
        return o == null ? "-" : o.toString();
    }
}
