package io.smartsim.launch.telemetry;

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
 * {@link Experiment#statuses()} and {@link Experiment#colocatedDatabases()}; its own in-memory samples), so it can be
 * opened from another process, while or after the experiment runs. Updates go to the page as server-sent events.
 * What it sends is built field by field from the records: passwords and TLS keys of the manifest are never part of
 * it.
 */
public final class Dashboard implements AutoCloseable {
    /** Samples kept per orchestrator for the charts (recorded history and live ones). */
    static final int HISTORY = 5000;
    static final Duration REFRESH = Duration.ofSeconds(1);
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
            refresh();
        } catch (RuntimeException e) {
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

    record EntityRow(String name, String type, String status, Integer exitCode, Long elapsedSeconds, String node,
                     boolean log) {
    }

    /**
     * One node's colocated database of a model: the fields of {@code db status --json}'s {@code colocated}
     * ({@link ColocatedNode}, health included), and {@code problem}. Besides the running ones that
     * {@link ColocatedStatus#nodes} lists (health {@code healthy}, {@code not answering} or {@code gone}), a node whose
     * server left only its log (its keeper stopped it and removed its pid file) is {@code ended} once the model has
     * ended and {@code not running} while the model still runs (starting, or being stopped); one with an error file is
     * {@code did not start}, with the error's first line as its problem. The pid of a server no longer running is the
     * one its log names last ({@code PID:ROLE ...} lines), or null.
     */
    record ColocatedRow(String node, Long pid, boolean alive, boolean answering, String address, Path log,
                        String health, String problem) {
        static ColocatedRow of(ColocatedNode n) {
            return new ColocatedRow(n.node(), n.pid(), n.alive(), n.answering(), n.address(), n.log(), n.health(),
                    null);
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
                        rec.map(x -> x.launched().handle().getOrDefault("node", "")).orElse(""),
                        rec.isPresent()));
            }
            // the running ones as db status lists them (one PING each); the others from the files the wrapper left
            Map<String, List<ColocatedNode>> live = exp.colocatedDatabases();
            Map<String, List<ColocatedRow>> colocated = new LinkedHashMap<>();
            for (ModelRecord rec : m.models()) {
                Optional<ColocatedPlan> plan = rec.plan().colocated();
                if (plan.isEmpty()) {
                    continue;
                }
                String status = statusOf.getOrDefault(rec.name(), rec.status().name());
                List<ColocatedRow> rows = colocated(plan.get(), live.getOrDefault(rec.name(), List.of()),
                        !TERMINAL.contains(status));
                if (!rows.isEmpty()) {
                    colocated.put(rec.name(), rows);
                }
            }
            s = new State(m.experiment(), expDir, Instant.now(), orchs, entities, colocated);
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
    private static final Pattern NODE = Pattern.compile("colocated-([A-Za-z0-9][A-Za-z0-9._-]{0,63})\\.(log|error)");
    /** A Redis (or KeyDB) log line: {@code PID:ROLE DATE...} (KeyDB: {@code PID:THREAD:ROLE ...}). */
    private static final Pattern LOG_PID = Pattern.compile("^(\\d{1,10}):");

    /**
     * A model's colocated databases by node (see {@link ColocatedRow}): {@code live} (what
     * {@link ColocatedStatus#nodes} found for {@code plan}), then the nodes of {@code plan.dir()} with a log or an
     * error file but no running server. {@code modelActive}: the model has not ended.
     */
    static List<ColocatedRow> colocated(ColocatedPlan plan, List<ColocatedNode> live, boolean modelActive) {
        List<ColocatedRow> rows = new ArrayList<>(live.stream().map(ColocatedRow::of).toList());
        Set<String> seen = new TreeSet<>(live.stream().map(ColocatedNode::node).toList());
        Set<String> others = new TreeSet<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(plan.dir(), "colocated-*")) {
            for (Path f : files) {
                Matcher mt = NODE.matcher(f.getFileName().toString());
                if (mt.matches() && !seen.contains(mt.group(1))) {
                    others.add(mt.group(1));
                }
            }
        } catch (IOException e) {
            return rows; // no directory (yet): the model has not run
        }
        for (String node : others) {
            Path log = plan.log(node);
            Long pid = LogTail.lines(log, 20).stream().map(LOG_PID::matcher).filter(Matcher::find)
                    .map(x -> Long.parseLong(x.group(1))).reduce((a, b) -> b).orElse(null);
            List<String> error = LogTail.lines(plan.errorFile(node), 200);
            String health = !error.isEmpty() ? "did not start" : modelActive ? "not running" : "ended";
            rows.add(new ColocatedRow(node, pid, false, false, plan.db().ssdb(), log, health,
                    error.isEmpty() ? null : error.get(0)));
        }
        rows.sort(java.util.Comparator.comparing(ColocatedRow::node));
        return rows;
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

    /**
     * The last lines of a shard's log ({@code ?orchestrator=ID&shard=N}), a model's output ({@code ?model=NAME}) or
     * the log of a model's colocated database on a node ({@code ?model=NAME&colocated=NODE}).
     */
    private void log(HttpExchange ex) throws IOException {
        String orch = HttpAccess.query(ex.getRequestURI(), "orchestrator");
        String shard = HttpAccess.query(ex.getRequestURI(), "shard");
        String model = HttpAccess.query(ex.getRequestURI(), "model");
        String node = HttpAccess.query(ex.getRequestURI(), "colocated");
        Manifest m = new ManifestStore(expDir).read().orElseThrow();
        Optional<Path> file = Optional.empty();
        if (orch != null && shard != null && shard.matches("\\d{1,6}")) {
            file = m.find(orch).flatMap(r -> logOf(r, Integer.parseInt(shard)));
        } else if (model != null && node != null) {
            // a node name as the wrapper writes it into a file name (hostname -s): never a path
            file = node.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}") ? m.findModel(model)
                    .flatMap(r -> r.plan().colocated()).map(p -> p.log(node)).filter(Files::isRegularFile)
                    : Optional.empty();
        } else if (model != null) {
            file = m.findModel(model).map(r -> r.plan().stdout());
        }
        if (file.isEmpty()) {
            MetricsServer.send(ex, 404, "text/plain; charset=utf-8", "no such log: give orchestrator=ID&shard=N, "
                    + "model=NAME, or model=NAME&colocated=NODE, as the manifest and the experiment directory name "
                    + "them\n");
            return;
        }
        // Only files the manifest names are ever read: the query picks one of them, never a path.
        String text = String.join("\n", LogTail.lines(file.get(), 200));
        MetricsServer.send(ex, 200, "text/plain; charset=utf-8", text + "\n");
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
        server.close();
        telemetry.close();
    }
}
