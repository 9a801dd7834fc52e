package io.smartsim.launch.dashboard;

import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.net.httpserver.HttpExchange;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.colocated.ColocatedStatus;
import io.smartsim.launch.status.ColocatedNode;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.status.ShardHealth;
import io.smartsim.launch.status.EntitySummary;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.manifest.Manifest;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.manifest.ModelRecord;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.util.LogTail;
import io.smartsim.launch.status.ShardSample;
import io.smartsim.launch.telemetry.Telemetry;
import io.smartsim.launch.telemetry.TelemetryFiles;
import io.smartsim.launch.telemetry.TelemetryOptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * {@code smartsim-launch dashboard}: a page that shows an experiment live. It reads only the experiment directory
 * (the manifest, the events logs, the recorded telemetry, the shards' and models' logs, the files the colocated
 * databases' wrapper writes) and the servers (health as {@code db status} computes it, through
 * {@link Experiment#statuses()} and {@link ColocatedStatus#nodes}, the latter off the refresh thread
 * ({@link ColocatedChecks}); its own in-memory samples), so it can be opened from another process, while or after the
 * experiment runs. Updates go to the page as server-sent events.
 * What it sends is built field by field from the records: passwords and TLS keys of the manifest are never part of
 * it.
 */
public final class Dashboard implements AutoCloseable {
    /** Samples kept per orchestrator for the charts (recorded history and live ones). */
    static final int HISTORY = 5000;
    static final Duration REFRESH = Duration.ofSeconds(1);
    /** How long a start waits for the first check of the colocated databases (each PING has 2 s). */
    static final Duration FIRST_CHECKS = Duration.ofSeconds(5);
    /** Lines of a log {@code /api/log} gives. */
    static final int LOG_LINES = 200;
    private static final ObjectWriter JSON = Json.mapper().writer().without(SerializationFeature.INDENT_OUTPUT);

    private final Path expDir;
    private final Telemetry telemetry;
    private final MetricsServer server;
    private final ScheduledExecutorService refresher;
    private final Map<String, Deque<ShardSample>> history = new LinkedHashMap<>();
    private final List<BlockingQueue<String>> clients = new CopyOnWriteArrayList<>();
    private volatile String state = "{}";
    /** Shard health changes this dashboard saw itself (no watchdog records a shard's death without --restart). */
    private final Deque<EventRow> observed = new ArrayDeque<>();
    private final Map<String, String> lastHealth = new LinkedHashMap<>();
    /** The colocated databases' checks: off the refresh thread, so a hung one delays nothing else. */
    private final ColocatedChecks checks = new ColocatedChecks();

    private Dashboard(Path expDir, HttpAccess access, int port, TelemetryOptions options) {
        this.expDir = expDir.toAbsolutePath().normalize();
        Manifest m = new ManifestStore(this.expDir).read().orElseThrow(() -> new IllegalArgumentException(
                "no manifest in " + this.expDir + ": nothing was started there; check --exp-dir"));
        for (OrchestratorRecord r : m.orchestrators()) {
            List<ShardSample> recorded = TelemetryFiles.read(this.expDir, r.id());
            Deque<ShardSample> d = new ArrayDeque<>(recorded.subList(Math.max(0, recorded.size() - HISTORY),
                    recorded.size()));
            history.put(r.id(), d);
        }
        telemetry = Telemetry.watchAll(this.expDir, options);
        telemetry.onSample(this::sampled);
        server = MetricsServer.start(telemetry, access, port);
        try {
            server.route("/api/state", ex -> MetricsServer.send(ex, 200, "application/json", state));
            server.route("/api/history", ex -> MetricsServer.send(ex, 200, "application/json", history()));
            server.route("/api/events", this::events);
            server.route("/api/log", this::log);
            server.route("/webjars/", this::webjar);
            server.route("/", this::page);
            // the first page shows what the colocated databases answer, not "checking" (a hung one: its timeout)
            Map<String, ColocatedPlan> plans = new LinkedHashMap<>();
            m.models().forEach(r -> r.plan().colocated().ifPresent(p -> plans.put(r.name(), p)));
            try {
                checks.awaitFirst(plans, FIRST_CHECKS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            refresh();
        } catch (RuntimeException e) {
            checks.close();
            server.close();
            telemetry.close();
            throw e;
        }
        refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dashboard-refresh");
            t.setDaemon(true);
            return t;
        });
        refresher.scheduleWithFixedDelay(this::refreshQuietly, REFRESH.toMillis(), REFRESH.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** Serves the dashboard of {@code expDir} on {@code access.bind()}:{@code port} (0: any free port). */
    public static Dashboard start(Path expDir, HttpAccess access, int port, TelemetryOptions options) {
        return new Dashboard(expDir, access, port, options);
    }

    /**
     * As {@link #start(Path, HttpAccess, int, TelemetryOptions)}, its charts getting a sample of each shard every
     * {@code interval} (the collector's other options as their defaults): what the {@code dashboard} command starts.
     * Fails with an {@link IllegalArgumentException} naming the interval when it is not positive.
     */
    public static Dashboard start(Path expDir, HttpAccess access, int port, Duration interval) {
        return start(expDir, access, port, TelemetryOptions.defaults().withInterval(interval));
    }

    public MetricsServer server() {
        return server;
    }

    /** The page's address, with the token when one is required. */
    public String url() {
        return server.uri() + server.access().token().map(t -> "?token=" + t).orElse("");
    }

    // ---- what the page shows ---------------------------------------------------------------------------------

    record ShardRow(int index, String address, String node, Long pid, String process, Boolean reachable, String role,
                    Long keys, Long usedMemory, Long clients, String problem, boolean log) {
    }

    record OrchestratorView(String id, String launcher, String recorded, String state, boolean healthy,
                            boolean serving, String clusterState, String summary, List<String> problems,
                            Long elapsedSeconds, List<ShardRow> shards, List<EventRow> events) {
    }

    record EventRow(Instant time, String orchestrator, String type, Integer shard, String detail) {
    }

    /** {@code node}: where it runs, as its launcher recorded it (the local one: this host's short name), or null. */
    record EntityRow(String name, String type, String status, Integer exitCode, Long elapsedSeconds, String node,
                     boolean log) {
    }

    /**
     * One node's colocated database of a model: the fields of {@code db status --json}'s {@code colocated}
     * ({@link ColocatedNode}, health included), {@code problem}, and when it was checked. Besides the ones the
     * model's last check found ({@link ColocatedStatus#nodes}: health {@code healthy}, {@code not answering} or
     * {@code gone}), a node with a pid file that check did not see (it started since) is {@code checking}, its pid the
     * file's; a node whose server left only its log (its keeper stopped it and removed its pid file) is {@code ended}
     * once the model has ended and {@code not running} while the model still runs (starting, or being stopped); one
     * with an error file is {@code did not start}, with the error's first line as its problem. The pid of a server
     * no longer running is the one its log names last ({@code PID:ROLE ...} lines), or null.
     *
     * @param checked       when the model's last check ended (null before the first): what it says is that old
     * @param ageSeconds    seconds from {@code checked} to this state
     * @param checkingSince when the check running now began (a hung server holds it up to its PING's timeout); null
     *                      when none runs
     * @param reported      for a node other than this machine, when it last reported its database's health (what
     *                      the row's health comes from); null for this machine's node
     */
    record ColocatedRow(String node, Long pid, boolean alive, boolean answering, String address, Path log,
                        String health, String problem, Instant checked, Long ageSeconds, Instant checkingSince,
                        Instant reported) {
        /** A row of this machine's node, or of none: no report of another node's. */
        ColocatedRow(String node, Long pid, boolean alive, boolean answering, String address, Path log, String health,
                     String problem, Instant checked, Long ageSeconds, Instant checkingSince) {
            this(node, pid, alive, answering, address, log, health, problem, checked, ageSeconds, checkingSince,
                    null);
        }

        static ColocatedRow of(ColocatedNode n, ColocatedChecks.Check c, Instant now) {
            return new ColocatedRow(n.node(), n.pid(), n.alive(), n.answering(), n.address(), n.log(), n.health(),
                    null, c.checked(), age(c, now), c.checkingSince(), n.reported().orElse(null));
        }

        static Long age(ColocatedChecks.Check c, Instant now) {
            return c.checked() == null ? null : Math.max(0, Duration.between(c.checked(), now).toSeconds());
        }
    }

    /** {@code colocated}: by model name, each model's databases by node, as in {@code db status --json}. */
    record State(String experiment, Path expDir, Instant time, List<OrchestratorView> orchestrators,
                 List<EntityRow> entities, Map<String, List<ColocatedRow>> colocated) {
    }

    /** Reads the manifest and checks the orchestrators as {@code db status} does; pushes the result if it changed. */
    void refresh() {
        State s;
        try (Experiment exp = Experiment.reconnect(expDir)) {
            Manifest m = new ManifestStore(expDir).read().orElseThrow();
            List<OrchestratorView> orchs = new ArrayList<>();
            for (OrchestratorStatus st : exp.statuses()) {
                OrchestratorRecord r = m.find(st.id()).orElseThrow();
                List<EventRow> events = new ArrayList<>(exp.supervision(st.id()).events().stream()
                        .map(e -> new EventRow(e.time(), e.orchestrator(), e.type(), e.shard().orElse(null),
                                e.detail())).toList());
                OrchestratorView v = view(st, r, events);
                observe(v);
                synchronized (observed) {
                    observed.stream().filter(e -> e.orchestrator().equals(v.id())).forEach(events::add);
                }
                events.sort(java.util.Comparator.comparing(EventRow::time));
                orchs.add(v);
            }
            List<String> ids = orchs.stream().map(OrchestratorView::id).toList();
            List<EntityRow> entities = new ArrayList<>();
            Map<String, String> statusOf = new LinkedHashMap<>();
            for (EntitySummary e : exp.summary()) {
                if (ids.contains(e.name())) {
                    continue;
                }
                statusOf.put(e.name(), e.status());
                Optional<ModelRecord> rec = m.findModel(e.name());
                entities.add(new EntityRow(e.name(), e.type(), e.status(), e.exitCode().orElse(null),
                        e.elapsed().map(Duration::toSeconds).orElse(null),
                        rec.map(x -> x.launched().handle().get("node")).orElse(null),
                        rec.isPresent()));
            }
            // as db status lists them (one PING each), from the last check, which runs on a thread of its own; the
            // others from the files the wrapper left
            Instant now = Instant.now();
            Map<String, List<ColocatedRow>> colocated = new LinkedHashMap<>();
            for (ModelRecord rec : m.models()) {
                Optional<ColocatedPlan> plan = rec.plan().colocated();
                if (plan.isEmpty()) {
                    continue;
                }
                String status = statusOf.getOrDefault(rec.name(), rec.status().name());
                List<ColocatedRow> rows = colocated(plan.get(), checks.poll(rec.name(), plan.get()),
                        !TERMINAL.contains(status), now);
                if (!rows.isEmpty()) {
                    colocated.put(rec.name(), rows);
                }
            }
            s = new State(m.experiment(), expDir, now, orchs, entities, colocated);
        }
        String json = write(s);
        // the time changes every refresh; push only when something else did
        if (!withoutTime(json).equals(withoutTime(state))) {
            state = json;
            broadcast("state", json);
        } else {
            state = json;
        }
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            // an unreadable manifest for a moment (being replaced), a launcher check failing: try again next time
        }
    }

    private static String withoutTime(String json) {
        return json.replaceFirst("\"time\":\"[^\"]*\"", "");
    }

    private static final Set<String> TERMINAL = Set.of("COMPLETED", "FAILED", "CANCELLED");
    private static final Pattern NODE = Pattern.compile("colocated-([A-Za-z0-9][A-Za-z0-9._-]{0,63})\\.(log|error|pid)");
    /** A node name as the wrapper writes it into its files' names ({@code hostname -s}): never a path. */
    private static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    /** A Redis (or KeyDB) log line: {@code PID:ROLE DATE...} (KeyDB: {@code PID:THREAD:ROLE ...}). */
    private static final Pattern LOG_PID = Pattern.compile("^(\\d{1,10}):");

    /**
     * A model's colocated databases by node (see {@link ColocatedRow}): those {@code check} found, then the nodes of
     * {@code plan.dir()} with a pid, log or error file that it did not. {@code modelActive}: the model has not ended.
     */
    static List<ColocatedRow> colocated(ColocatedPlan plan, ColocatedChecks.Check check, boolean modelActive,
                                        Instant now) {
        List<ColocatedRow> rows = new ArrayList<>(check.nodes().stream().map(n -> ColocatedRow.of(n, check, now))
                .toList());
        Set<String> seen = new TreeSet<>(check.nodes().stream().map(ColocatedNode::node).toList());
        Set<String> others = new TreeSet<>(nodesWithFiles(plan));
        others.removeAll(seen);
        Long age = ColocatedRow.age(check, now);
        for (String node : others) {
            Path log = plan.log(node);
            List<String> error = LogTail.lines(plan.errorFile(node), 200);
            Long pidFile = error.isEmpty() ? pidOf(plan.pidFile(node)) : null;
            if (pidFile != null) { // started since the last check ended: the one running now tells
                boolean alive = ProcessHandle.of(pidFile).map(ProcessHandle::isAlive).orElse(false);
                rows.add(new ColocatedRow(node, pidFile, alive, false, plan.db().ssdb(), log, "checking", null,
                        check.checked(), age, check.checkingSince()));
                continue;
            }
            Long pid = LogTail.lines(log, 20).stream().map(LOG_PID::matcher).filter(Matcher::find)
                    .map(x -> Long.parseLong(x.group(1))).reduce((a, b) -> b).orElse(null);
            String health = !error.isEmpty() ? "did not start" : modelActive ? "not running" : "ended";
            rows.add(new ColocatedRow(node, pid, false, false, plan.db().ssdb(), log, health,
                    error.isEmpty() ? null : error.get(0), check.checked(), age, check.checkingSince()));
        }
        rows.sort(java.util.Comparator.comparing(ColocatedRow::node));
        return rows;
    }

    /** The nodes with a pid, log or error file in the model's directory; none when it has no directory (yet). */
    static Set<String> nodesWithFiles(ColocatedPlan plan) {
        Set<String> nodes = new TreeSet<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(plan.dir(), "colocated-*")) {
            for (Path f : files) {
                Matcher mt = NODE.matcher(f.getFileName().toString());
                if (mt.matches()) {
                    nodes.add(mt.group(1));
                }
            }
        } catch (IOException e) {
            // no directory (yet): the model has not run
        }
        return nodes;
    }

    private static Long pidOf(Path pidFile) {
        try {
            return Long.parseLong(Files.readString(pidFile).strip());
        } catch (IOException | NumberFormatException e) {
            return null; // none, or being written or removed right now
        }
    }

    /** Records a shard going down or coming back, as this dashboard sees it, as an event of its own. */
    private void observe(OrchestratorView v) {
        for (ShardRow sh : v.shards()) {
            String key = v.id() + "/" + sh.index();
            String now = health(sh);
            String before = lastHealth.put(key, now);
            if (before != null && !before.equals(now) && !"unknown".equals(now)) {
                String type = "down".equals(now) ? "shard-down" : "shard-up";
                String why = "down".equals(now) ? ("gone".equals(sh.process()) ? "its process is gone"
                        : sh.problem() == null ? "it does not answer" : sh.problem()) : "it answers again";
                synchronized (observed) {
                    observed.addLast(new EventRow(Instant.now(), v.id(), type, sh.index(),
                            "seen by the dashboard: " + why));
                    while (observed.size() > 1000) {
                        observed.removeFirst();
                    }
                }
            }
        }
    }

    /** up, down or unknown, as the page shows it: down when the process is gone or the shard does not answer. */
    static String health(ShardRow sh) {
        if ("gone".equals(sh.process()) || Boolean.FALSE.equals(sh.reachable())) {
            return "down";
        }
        return Boolean.TRUE.equals(sh.reachable()) ? "up" : "unknown";
    }

    static OrchestratorView view(OrchestratorStatus st, OrchestratorRecord r, List<EventRow> events) {
        Map<Integer, ShardHealth> health = st.health().map(HealthReport::shards).orElse(List.of()).stream()
                .collect(Collectors.toMap(ShardHealth::index, Function.identity()));
        List<ShardRow> shards = new ArrayList<>();
        for (LaunchedShard ls : st.shards()) {
            ShardHealth h = health.get(ls.index());
            var live = st.liveness().get(ls.index());
            shards.add(new ShardRow(ls.index(), ls.address(), ls.handle().getOrDefault("node", ls.host()),
                    ls.pid().orElse(null), live == null ? "not checked" : live.name().toLowerCase(Locale.ROOT),
                    h == null ? null : h.reachable(), h == null || !h.reachable() ? null : h.role(),
                    h == null || !h.reachable() ? null : h.keys(), h == null || !h.reachable() ? null : h.usedMemory(),
                    h == null || !h.reachable() ? null : h.connectedClients(),
                    h == null ? null : h.problem().orElse(null), logOf(r, ls.index()).isPresent()));
        }
        Long elapsed = st.shards().stream().flatMap(x -> x.processStart().stream()).min(Instant::compareTo)
                .map(t0 -> Duration.between(t0, "RUNNING".equals(r.status().name()) ? Instant.now() : r.updated())
                        .toSeconds()).orElse(null);
        return new OrchestratorView(st.id(), st.launcher(), st.recorded().name(), st.state(), st.healthy(),
                st.serving(), st.health().map(HealthReport::clusterState).orElse(null),
                st.health().map(HealthReport::summary).orElse(null),
                st.health().map(HealthReport::problems).orElse(List.of()), elapsed, shards, events);
    }

    static Optional<Path> logOf(OrchestratorRecord r, int shard) {
        return r.plan().shards().stream().filter(p -> p.index() == shard).map(ShardPlan::logPath).findFirst();
    }

    private void sampled(ShardSample s) {
        synchronized (history) {
            Deque<ShardSample> d = history.computeIfAbsent(s.orchestrator(), k -> new ArrayDeque<>());
            d.addLast(s);
            while (d.size() > HISTORY) {
                d.removeFirst();
            }
        }
        broadcast("sample", write(s));
    }

    private String history() {
        synchronized (history) {
            Map<String, List<ShardSample>> copy = new LinkedHashMap<>();
            history.forEach((k, v) -> copy.put(k, List.copyOf(v)));
            return write(copy);
        }
    }

    private static String write(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- HTTP ------------------------------------------------------------------------------------------------

    private void broadcast(String event, String data) {
        String msg = "event: " + event + "\ndata: " + data + "\n\n";
        for (BlockingQueue<String> q : clients) {
            if (!q.offer(msg)) {
                clients.remove(q); // a client that does not read: dropped, it reconnects and reloads
            }
        }
    }

    /** Server-sent events: {@code state} when the experiment's state changes, {@code sample} with each sample. */
    private void events(HttpExchange ex) throws IOException {
        BlockingQueue<String> q = new LinkedBlockingQueue<>(10_000);
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        clients.add(q);
        try {
            out.write(("retry: 1000\nevent: state\ndata: " + state + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            while (!Thread.currentThread().isInterrupted()) {
                String msg = q.poll(15, TimeUnit.SECONDS);
                out.write((msg == null ? ": keep-alive\n\n" : msg).getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            clients.remove(q);
        }
    }

    /** What {@code /api/log} answers: its status code and its JSON body. */
    record LogAnswer(int status, Map<String, Object> body) {
        static LogAnswer error(int status, String parameter, String message) {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("error", message);
            b.put("parameter", parameter);
            return new LogAnswer(status, b);
        }
    }

    static final String LOG_USAGE = "give orchestrator=ID&shard=N (a shard's log), model=NAME (a model's output) or "
            + "model=NAME&colocated=NODE (its colocated database's log on that node)";
    private static final Set<String> LOG_PARAMETERS = Set.of("orchestrator", "shard", "model", "colocated", "token");

    /**
     * {@code /api/log}: the last {@value #LOG_LINES} lines of a shard's log ({@code ?orchestrator=ID&shard=N}), a
     * model's output ({@code ?model=NAME}) or the log of a model's colocated database on a node
     * ({@code ?model=NAME&colocated=NODE}), as JSON. Only files the manifest names (and {@code colocated-NODE.log} in
     * a colocated model's directory) are read: the query picks one of them, never a path.
     */
    private void log(HttpExchange ex) throws IOException {
        LogAnswer a = logAnswer(new ManifestStore(expDir).read(), expDir, ex.getRequestURI());
        MetricsServer.send(ex, a.status(), "application/json", write(a.body()));
    }

    /**
     * The answer to {@code /api/log?QUERY} (see docs/telemetry.md): 200 with {@code lines} (empty, with
     * {@code exists: false}, for a known shard, model or node whose log is not written yet); 404 naming the shard,
     * orchestrator, model or node that is not there; 400 naming a parameter that is missing, unknown, given twice or
     * malformed. An error's body: {@code error} (what is wrong and what to give) and {@code parameter}.
     */
    static LogAnswer logAnswer(Optional<Manifest> manifest, Path expDir, java.net.URI uri) {
        Map<String, String> q = new LinkedHashMap<>();
        String raw = uri.getRawQuery();
        for (String part : raw == null || raw.isEmpty() ? new String[0] : raw.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            String k;
            String v;
            try {
                k = java.net.URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
                v = java.net.URLDecoder.decode(eq < 0 ? "" : part.substring(eq + 1), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return LogAnswer.error(400, null, "'" + part + "' is not URL-encoded (" + e.getMessage() + "): "
                        + LOG_USAGE);
            }
            if (!LOG_PARAMETERS.contains(k)) {
                return LogAnswer.error(400, k, "unknown parameter '" + k + "': " + LOG_USAGE);
            }
            if (q.put(k, v) != null) {
                return LogAnswer.error(400, k, "parameter '" + k + "' is given twice: give it once");
            }
            if (v.isBlank() && !k.equals("token")) {
                return LogAnswer.error(400, k, "parameter '" + k + "' is empty: " + LOG_USAGE);
            }
        }
        String orch = q.get("orchestrator");
        String shard = q.get("shard");
        String model = q.get("model");
        String node = q.get("colocated");
        if ((orch != null || shard != null) && (model != null || node != null)) {
            return LogAnswer.error(400, orch != null ? "orchestrator" : "shard", "a shard's and a model's log at once: "
                    + LOG_USAGE + ", one at a time");
        }
        if (orch == null && shard == null && model == null && node == null) {
            return LogAnswer.error(400, null, "which log? " + LOG_USAGE);
        }
        if (orch == null && shard != null) {
            return LogAnswer.error(400, "orchestrator", "shard=" + shard + " needs orchestrator=ID, the orchestrator "
                    + "it belongs to");
        }
        if (orch != null && shard == null) {
            return LogAnswer.error(400, "shard", "orchestrator=" + orch + " needs shard=N, the index of one of its "
                    + "shards (0, 1, ...)");
        }
        if (orch == null && model == null) { // colocated=NODE alone
            return LogAnswer.error(400, "model", "colocated=" + node + " needs model=NAME, the model whose colocated "
                    + "database runs on that node");
        }
        if (shard != null && !shard.matches("\\d{1,6}")) {
            return LogAnswer.error(400, "shard", "shard '" + shard + "' is not a shard index: give its number, such "
                    + "as 0");
        }
        if (node != null && !NODE_NAME.matcher(node).matches()) {
            return LogAnswer.error(400, "colocated", "colocated '" + node + "' is not a node name: give the node as "
                    + "the colocated databases' table names it (letters, digits, '.', '_', '-'), never a path");
        }
        if (manifest.isEmpty()) {
            return LogAnswer.error(404, null, "no manifest in " + expDir + " (any more): nothing is recorded there");
        }
        Manifest m = manifest.get();
        Map<String, Object> what = new LinkedHashMap<>();
        Path file;
        if (orch != null) {
            Optional<OrchestratorRecord> r = m.find(orch);
            if (r.isEmpty()) {
                return LogAnswer.error(404, "orchestrator", "no orchestrator '" + orch + "' in this experiment; "
                        + known(m.orchestrators().stream().map(OrchestratorRecord::id).toList()));
            }
            int index = Integer.parseInt(shard);
            Optional<Path> log = logOf(r.get(), index);
            if (log.isEmpty()) {
                return LogAnswer.error(404, "shard", "orchestrator '" + orch + "' has no shard " + index + "; "
                        + known(r.get().plan().shards().stream().map(p -> Integer.toString(p.index())).toList()));
            }
            what.put("orchestrator", orch);
            what.put("shard", index);
            file = log.get();
        } else {
            Optional<ModelRecord> r = m.findModel(model);
            if (r.isEmpty()) {
                return LogAnswer.error(404, "model", "no model '" + model + "' in this experiment; "
                        + known(m.models().stream().map(ModelRecord::name).toList()));
            }
            what.put("model", model);
            if (node == null) {
                file = r.get().plan().stdout();
            } else {
                Optional<ColocatedPlan> plan = r.get().plan().colocated();
                if (plan.isEmpty()) {
                    return LogAnswer.error(404, "colocated", "model '" + model + "' has no colocated database");
                }
                Set<String> nodes = nodesWithFiles(plan.get());
                if (!nodes.contains(node)) {
                    return LogAnswer.error(404, "colocated", "model '" + model + "' has no colocated database on "
                            + "node '" + node + "'; " + known(List.copyOf(nodes)));
                }
                what.put("colocated", node);
                file = plan.get().log(node);
            }
        }
        what.put("file", file.toString());
        what.put("exists", Files.isRegularFile(file));
        what.put("lines", LogTail.lines(file, LOG_LINES));
        return new LogAnswer(200, what);
    }

    private static String known(List<String> names) {
        return names.isEmpty() ? "there is none yet" : "known: " + String.join(", ", names);
    }

    private void webjar(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        if (path.contains("..") || !path.matches("/webjars/uplot/[0-9.]+/dist/uPlot\\.(iife\\.min\\.js|min\\.css)")) {
            MetricsServer.send(ex, 404, "text/plain; charset=utf-8", "not found\n");
            return;
        }
        try (InputStream in = Dashboard.class.getResourceAsStream("/META-INF/resources" + path)) {
            if (in == null) {
                MetricsServer.send(ex, 404, "text/plain; charset=utf-8", "not found\n");
                return;
            }
            MetricsServer.send(ex, 200, path.endsWith(".css") ? "text/css" : "text/javascript", in.readAllBytes());
        }
    }

    private void page(HttpExchange ex) throws IOException {
        if (!"/".equals(ex.getRequestURI().getPath())) {
            MetricsServer.send(ex, 404, "text/plain; charset=utf-8", "not found\n");
            return;
        }
        try (InputStream in = Dashboard.class.getResourceAsStream("dashboard.html")) {
            String html = new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .replace("@UPLOT@", "/webjars/uplot/" + uplotVersion() + "/dist/");
            MetricsServer.send(ex, 200, "text/html; charset=utf-8", html);
        }
    }

    static String uplotVersion() {
        try (InputStream in = Dashboard.class.getResourceAsStream("uplot.version")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("the uPlot WebJar version is not on the classpath (uplot.version)", e);
        }
    }

    @Override
    public void close() {
        if (refresher != null) {
            refresher.shutdownNow();
        }
        checks.close();
        server.close();
        telemetry.close();
    }
}
