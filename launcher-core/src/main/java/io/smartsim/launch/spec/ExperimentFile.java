package io.smartsim.launch.spec;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.smartsim.launch.error.InvalidSpecException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * An experiment described in a YAML or JSON file, with the names of the Java API:
 *
 * <pre>
 * name: demo
 * orchestrators:
 *   - { id: db, launcher: local, nodes: 1, instancesPerNode: 3, port: 6780 }
 * models:
 *   - { name: sim, exe: ./sim.sh, args: ["--steps", "100"], env: { OMP_NUM_THREADS: "2" }, run: { nodes: 1 } }
 * ensembles:
 *   - { name: sweep, exe: ./sim.sh, args: ["--alpha", ";alpha;"], params: { alpha: [0.1, 0.2] }, strategy: step }
 * </pre>
 *
 * Reading is strict: an unknown field, a value of the wrong type, a missing required field, bad YAML and every
 * check of the specs themselves fail with a {@link SpecFileException} naming the line, the column, the field and
 * what it accepts. Relative paths in the file are relative to the file's directory.
 *
 * @param file          the file read
 * @param name          the experiment's name
 * @param orchestrators its orchestrators, in file order
 * @param models        its models
 * @param ensembles     its ensembles
 * @param locations     where each field is, by JSON pointer ({@code /models/0/exe}), to locate later errors
 */
public record ExperimentFile(Path file, String name, List<OrchestratorSpec> orchestrators, List<ModelSpec> models,
                             List<EnsembleSpec> ensembles, Map<String, JsonLocation> locations) {
    public ExperimentFile {
        orchestrators = List.copyOf(orchestrators);
        models = List.copyOf(models);
        ensembles = List.copyOf(ensembles);
        locations = Map.copyOf(locations);
    }

    /** Reads and checks {@code file}: JSON when it ends in .json, YAML otherwise (YAML also reads JSON). */
    public static ExperimentFile read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new SpecFileException(file, 0, 0, "file", "no such file; give the path of an experiment spec "
                    + "(.yaml, .yml or .json)");
        } catch (IOException e) {
            throw new SpecFileException(file, 0, 0, "file", "cannot read it: " + e.getMessage());
        }
        JsonFactory factory = file.toString().toLowerCase(Locale.ROOT).endsWith(".json") ? new JsonFactory()
                : new YAMLFactory();
        factory.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        ObjectMapper mapper = new ObjectMapper(factory)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
        if (new String(bytes, java.nio.charset.StandardCharsets.UTF_8).lines()
                .allMatch(l -> l.isBlank() || l.strip().startsWith("#"))) {
            throw new SpecFileException(file, 1, 1, "name", "the file is empty; it needs at least 'name:' and one "
                    + "orchestrator, model or ensemble");
        }
        Root root;
        Map<String, JsonLocation> locations = Map.of();
        try {
            locations = index(factory, bytes);
            root = mapper.readValue(bytes, Root.class);
        } catch (JsonProcessingException e) {
            throw translate(file, e, locations);
        } catch (IOException e) {
            throw new SpecFileException(file, 0, 0, "file", "cannot read it: " + e.getMessage());
        }
        return convert(file, root, locations);
    }

    /** {@code e} located at {@code /<section>/<index>/<e.field()>} (or the entry, or the file): for checks made later. */
    public SpecFileException locate(String section, int index, InvalidSpecException e) {
        if (e instanceof SpecFileException sfe) {
            return sfe;
        }
        return located(file, locations, "/" + section + "/" + index, e);
    }

    // ---- conversion --------------------------------------------------------------------------------------------

    private static ExperimentFile convert(Path file, Root root, Map<String, JsonLocation> at) {
        Path base = file.toAbsolutePath().normalize().getParent();
        List<OrchestratorSpec> dbs = new ArrayList<>();
        List<ModelSpec> models = new ArrayList<>();
        List<EnsembleSpec> ensembles = new ArrayList<>();
        List<OrchestratorEntry> os = nonNull(root.orchestrators());
        for (int i = 0; i < os.size(); i++) {
            OrchestratorEntry o = os.get(i);
            dbs.add(check(file, at, "/orchestrators/" + i, () -> orchestrator(o, base)));
        }
        List<ModelEntry> ms = nonNull(root.models());
        for (int i = 0; i < ms.size(); i++) {
            ModelEntry m = ms.get(i);
            models.add(check(file, at, "/models/" + i, () -> model(m, base)));
        }
        List<EnsembleEntry> es = nonNull(root.ensembles());
        for (int i = 0; i < es.size(); i++) {
            EnsembleEntry e = es.get(i);
            ensembles.add(check(file, at, "/ensembles/" + i, () -> ensemble(e, base)));
        }
        if (dbs.isEmpty() && models.isEmpty() && ensembles.isEmpty()) {
            throw located(file, at, "", new InvalidSpecException("orchestrators", "the experiment has no "
                    + "orchestrators, models or ensembles; add at least one"));
        }
        return new ExperimentFile(file, root.name(), dbs, models, ensembles, at);
    }

    private static <T> T check(Path file, Map<String, JsonLocation> at, String pointer, Supplier<T> make) {
        try {
            return make.get();
        } catch (InvalidSpecException e) {
            throw located(file, at, pointer, e);
        }
    }

    private static SpecFileException located(Path file, Map<String, JsonLocation> at, String pointer,
                                             InvalidSpecException e) {
        // "run.tasks" -> /run/tasks; "nodes/instancesPerNode" -> /nodes; "env.X (sim)" -> /env/X
        String field = e.field().split("[ /]")[0];
        String prefix = e.field() + ": ";
        String message = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length())
                : e.getMessage();
        String full = pointer + "/" + field.replace('.', '/');
        JsonLocation loc = null;
        for (String p = full; loc == null; p = p.substring(0, Math.max(0, p.lastIndexOf('/')))) {
            loc = at.get(p);
            if (p.isEmpty()) {
                break;
            }
        }
        String path = (pointer.isEmpty() ? "" : dotted(pointer) + ".") + e.field();
        return new SpecFileException(file, loc == null ? 0 : loc.getLineNr(), loc == null ? 0 : loc.getColumnNr(),
                path, message);
    }

    /** "/models/0/run" -> "models[0].run". */
    private static String dotted(String pointer) {
        StringBuilder sb = new StringBuilder();
        for (String part : pointer.substring(1).split("/")) {
            if (part.matches("[0-9]+")) {
                sb.append('[').append(part).append(']');
            } else {
                sb.append(sb.length() == 0 ? "" : ".").append(part);
            }
        }
        return sb.toString();
    }

    private static OrchestratorSpec orchestrator(OrchestratorEntry o, Path base) {
        OrchestratorSpec.Builder b = OrchestratorSpec.builder();
        if (o.id() != null) b.id(o.id());
        if (o.launcher() != null) b.launcher(o.launcher());
        if (o.backend() != null) b.backend(Backend.parse(o.backend()));
        if (o.nodes() != null) b.nodes(o.nodes());
        if (o.instancesPerNode() != null) b.instancesPerNode(o.instancesPerNode());
        if (o.port() instanceof Integer p) {
            b.port(p);
        } else if ("auto".equals(o.port())) {
            b.autoPort(true);
        } else if (o.port() != null) {
            throw new InvalidSpecException("port", "'" + o.port() + "' is not a port; give a number such as "
                    + OrchestratorSpec.DEFAULT_PORT + ", or auto");
        }
        if (o.interfaces() != null) b.interfaces(o.interfaces());
        if (o.cpusPerShard() != null) b.cpusPerShard(o.cpusPerShard());
        if (o.maxMemory() != null) b.maxMemory(o.maxMemory());
        if (o.evictionPolicy() != null) b.evictionPolicy(o.evictionPolicy());
        if (o.extraConfig() != null) b.extraConfig(o.extraConfig());
        if (o.startupTimeout() != null) {
            if (o.startupTimeout() < 1) {
                throw new InvalidSpecException("startupTimeout", o.startupTimeout() + " is not a timeout; give "
                        + "seconds, 1 or more");
            }
            b.startupTimeout(Duration.ofSeconds(o.startupTimeout()));
        }
        if (o.serverBinary() != null) {
            b.serverBinary(o.serverBinary().contains("/") ? base.resolve(o.serverBinary()).normalize()
                    : Path.of(o.serverBinary()));
        }
        if (o.launcherOptions() != null) o.launcherOptions().forEach(b::launcherOption);
        if (o.auth() != null) b.auth(o.auth());
        if (o.tls() != null) b.tls(o.tls());
        if (o.replicas() != null) b.replicas(o.replicas());
        if (o.restart() != null) b.restart(RestartPolicy.parse(o.restart()));
        if (o.checkpoint() != null) b.checkpoint(Checkpoint.parse(o.checkpoint()));
        if (o.lease() != null) b.lease(Durations.parse("lease", o.lease()));
        if (o.telemetry() != null || o.telemetryInterval() != null) {
            try {
                b.telemetry(TelemetrySpec.parse(o.telemetry(), o.telemetryInterval()));
            } catch (InvalidSpecException e) {
                // named as the file names it (the CLI's --telemetry-interval is telemetryInterval here)
                throw e.field().equals("telemetry-interval") ? new InvalidSpecException("telemetryInterval",
                        e.getMessage().substring(e.field().length() + 2)) : e;
            }
        }
        if (o.ai() != null) {
            b.ai(new AiSpec(o.ai().backends(), o.ai().device(), o.ai().threads() == null ? 0 : o.ai().threads()));
        }
        return b.build();
    }

    private static ModelSpec model(ModelEntry m, Path base) {
        ModelSpec.Builder b = ModelSpec.builder(m.name(), m.exe()).baseDir(base);
        if (m.launcher() != null) b.launcher(m.launcher());
        if (m.args() != null) b.args(m.args());
        if (m.env() != null) b.env(m.env());
        if (m.workDir() != null) b.workDir(Path.of(m.workDir()));
        if (m.run() != null) b.run(run(m.run()));
        if (m.params() != null) b.params(m.params());
        if (m.configFiles() != null) b.configFiles(m.configFiles().stream().map(Path::of).toList());
        if (m.colocatedDb() != null) b.colocatedDb(colocated(m.colocatedDb()));
        if (m.launcherOptions() != null) b.launcherOptions(m.launcherOptions());
        return b.build();
    }

    private static EnsembleSpec ensemble(EnsembleEntry e, Path base) {
        EnsembleSpec.Builder b = EnsembleSpec.builder(e.name(), e.exe()).baseDir(base);
        if (e.launcher() != null) b.launcher(e.launcher());
        if (e.args() != null) b.args(e.args());
        if (e.env() != null) b.env(e.env());
        if (e.workDir() != null) b.workDir(Path.of(e.workDir()));
        if (e.run() != null) b.run(run(e.run()));
        if (e.params() != null) e.params().forEach(b::param);
        if (e.strategy() != null) b.strategy(Strategy.parse(e.strategy()));
        if (e.samples() != null) b.samples(e.samples());
        if (e.seed() != null) b.seed(e.seed());
        if (e.configFiles() != null) b.configFiles(e.configFiles().stream().map(Path::of).toList());
        if (e.colocatedDb() != null) b.colocatedDb(colocated(e.colocatedDb()));
        if (e.launcherOptions() != null) e.launcherOptions().forEach(b::launcherOption);
        return b.build();
    }

    private static ColocatedDb colocated(ColocatedEntry c) {
        if ((c.port() == null) == (c.unixSocket() == null)) {
            throw new InvalidSpecException("colocatedDb", "give either port (TCP on 127.0.0.1) or unixSocket (an "
                    + "absolute path), not " + (c.port() == null ? "neither" : "both"));
        }
        if (c.port() == null && c.interfaces() != null) {
            throw new InvalidSpecException("colocatedDb.interfaces", "a database on a Unix socket listens on no "
                    + "interface; remove interfaces, or use port");
        }
        if (c.port() != null && c.socketPermissions() != null) {
            throw new InvalidSpecException("colocatedDb.socketPermissions", "only a Unix socket has permissions; "
                    + "remove socketPermissions, or use unixSocket");
        }
        ColocatedDb db = c.port() != null ? ColocatedDb.tcp(c.port())
                : ColocatedDb.unixSocket(c.unixSocket(), permissions(c.socketPermissions()));
        if (c.cpus() != null) db = db.cpus(c.cpus());
        if (c.pinning() != null) db = db.pinning(cpuList(c.pinning()));
        if (c.interfaces() != null) db = db.interfaces(c.interfaces().toArray(String[]::new));
        if (c.backend() != null) db = db.backend(Backend.parse(c.backend()));
        if (c.config() != null) db = db.config(c.config().toArray(String[]::new));
        for (ColocatedModelEntry m : c.models() == null ? List.<ColocatedModelEntry>of() : c.models()) {
            db = db.withModel(ColocatedModel.of(m.name(), m.backend(), m.device() == null ? "CPU" : m.device(),
                    m.file()).batching(orZero(m.batchSize()), orZero(m.minBatchSize()), orZero(m.minBatchTimeout()))
                    .nodes(m.inputs(), m.outputs()));
        }
        for (ColocatedScriptEntry sc : c.scripts() == null ? List.<ColocatedScriptEntry>of() : c.scripts()) {
            db = db.withScript(sc.name(), sc.device() == null ? "CPU" : sc.device(), sc.file());
        }
        return db;
    }

    private static int orZero(Integer v) {
        return v == null ? 0 : v;
    }

    /** Octal digits as written ({@code 755}, {@code "0755"}); 0755 unquoted is YAML 1.1's octal, 493: refused. */
    private static int permissions(Object v) {
        if (v == null) {
            return 0755;
        }
        String digits = v.toString().strip();
        if (!digits.matches("0?[0-7]{3}")) {
            throw new InvalidSpecException("colocatedDb.socketPermissions", "'" + digits + "' is not a permission "
                    + "mode; give three octal digits, for example 755 (a leading 0 only in quotes: \"0755\")");
        }
        return Integer.parseInt(digits, 8);
    }

    /** {@code "0-1"}, {@code 1}, {@code [0, 2]}, or {@code ""} / {@code []} for no pinning. */
    private static String cpuList(Object v) {
        if (v instanceof List<?> l) {
            return String.join(",", l.stream().map(String::valueOf).toList());
        }
        return v.toString();
    }

    private static RunSettings run(RunEntry r) {
        RunSettings.Builder b = RunSettings.builder();
        if (r.nodes() != null) b.nodes(r.nodes());
        if (r.tasks() != null) b.tasks(r.tasks());
        if (r.tasksPerNode() != null) b.tasksPerNode(r.tasksPerNode());
        if (r.cpusPerTask() != null) b.cpusPerTask(r.cpusPerTask());
        if (r.runArgs() != null) b.runArgs(r.runArgs());
        if (r.alloc() != null) b.alloc(r.alloc());
        if (r.batch() != null) {
            BatchEntry x = r.batch();
            b.batch(new BatchSettings(java.util.Optional.ofNullable(x.time())
                    .map(t -> BatchSettings.parseClock("run.batch.time", t)), java.util.Optional.ofNullable(x.account()),
                    java.util.Optional.ofNullable(x.partition()), java.util.Optional.ofNullable(x.qos()),
                    x.options()));
        }
        return b.build();
    }

    private static <T> List<T> nonNull(List<T> l) {
        return l == null ? List.of() : l;
    }

    // ---- Jackson's errors, located ---------------------------------------------------------------------------

    private static SpecFileException translate(Path file, JsonProcessingException e, Map<String, JsonLocation> at) {
        JsonLocation loc = e.getLocation();
        String pointer = pointer(e);
        boolean missing = e.getOriginalMessage() != null
                && e.getOriginalMessage().startsWith("Missing required creator property");
        if (e instanceof UnrecognizedPropertyException && at.containsKey(pointer + KEY)) {
            loc = at.get(pointer + KEY); // the unknown name itself
        } else if (missing && at.containsKey(pointer.substring(0, Math.max(0, pointer.lastIndexOf('/'))))) {
            loc = at.get(pointer.substring(0, Math.max(0, pointer.lastIndexOf('/')))); // the entry that lacks it
        } else if (at.containsKey(pointer) && !pointer.isEmpty()) {
            loc = at.get(pointer);
        }
        int line = loc == null ? 0 : loc.getLineNr();
        int column = loc == null ? 0 : loc.getColumnNr();
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            if (c instanceof InvalidSpecException ise) {
                return new SpecFileException(file, line, column, path(e), ise.getMessage());
            }
        }
        if (e instanceof UnrecognizedPropertyException u) {
            String path = path(e);
            return new SpecFileException(file, line, column, path, "unknown field '" + u.getPropertyName()
                    + "'; the fields here are " + names(u.getKnownPropertyIds()));
        }
        if (e instanceof InvalidFormatException f) {
            return new SpecFileException(file, line, column, path(e), "'" + f.getValue() + "' is not "
                    + expected(f.getTargetType()));
        }
        if (e instanceof MismatchedInputException m) {
            String msg = m.getOriginalMessage();
            if (missing) {
                String field = msg.replaceAll("(?s).*property '([^']*)'.*", "$1");
                return new SpecFileException(file, line, column, path(e), "missing; this entry needs '" + field
                        + "'");
            }
            return new SpecFileException(file, line, column, path(e), "expected " + expected(m.getTargetType())
                    + " here");
        }
        String msg = e.getOriginalMessage();
        return new SpecFileException(file, line, column, "syntax", (e instanceof JsonMappingException ? "" : "not valid "
                + (file.toString().endsWith(".json") ? "JSON" : "YAML") + ": ") + firstLine(msg));
    }

    /** The JSON pointer of the field a mapping error is about: {@code /models/0/run/nodes}. */
    private static String pointer(JsonProcessingException e) {
        if (!(e instanceof JsonMappingException m)) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : m.getPath()) {
            sb.append('/').append(r.getFieldName() != null ? r.getFieldName() : Integer.toString(r.getIndex()));
        }
        return sb.toString();
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.strip().lines().findFirst().orElse("");
    }

    private static String path(JsonProcessingException e) {
        if (!(e instanceof JsonMappingException m)) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : m.getPath()) {
            if (r.getFieldName() != null) {
                sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static String names(Collection<Object> ids) {
        TreeSet<String> sorted = new TreeSet<>();
        ids.forEach(i -> sorted.add(String.valueOf(i)));
        return String.join(", ", sorted);
    }

    private static String expected(Class<?> type) {
        if (type == null) {
            return "a value of the right type";
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "a whole number";
        }
        if (type == String.class) {
            return "a single value (text or a number)";
        }
        if (List.class.isAssignableFrom(type)) {
            return "a list, for example [a, b]";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord()) {
            return "a mapping of fields (key: value)";
        }
        return "a " + type.getSimpleName();
    }

    /** Suffix of the pointer under which a field's name (rather than its value) is indexed. */
    private static final String KEY = "@key";

    /** Where each value and list entry starts, by JSON pointer; field names under pointer + {@link #KEY}. */
    private static Map<String, JsonLocation> index(JsonFactory factory, byte[] bytes) throws IOException {
        Map<String, JsonLocation> at = new HashMap<>();
        try (JsonParser p = factory.createParser(bytes)) {
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                JsonPointer here = p.getParsingContext().pathAsPointer();
                if (t == JsonToken.FIELD_NAME) {
                    at.putIfAbsent(here + KEY, p.currentTokenLocation());
                } else if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                    // the container's own context: its pointer is its parent's field or index
                    JsonPointer parent = p.getParsingContext().getParent() == null ? JsonPointer.empty()
                            : p.getParsingContext().getParent().pathAsPointer();
                    at.putIfAbsent(parent.toString(), p.currentTokenLocation());
                } else {
                    at.putIfAbsent(here.toString(), p.currentTokenLocation());
                }
            }
        }
        return at;
    }

    // ---- the file's shape: the names of the Java API ---------------------------------------------------------

    record Root(@JsonProperty(required = true) String name, List<OrchestratorEntry> orchestrators,
                List<ModelEntry> models, List<EnsembleEntry> ensembles) {
    }

    record OrchestratorEntry(String id, String launcher, String backend, Integer nodes, Integer instancesPerNode,
                             Object port, List<String> interfaces, Integer cpusPerShard, String maxMemory,
                             String evictionPolicy, List<String> extraConfig, Integer startupTimeout,
                             String serverBinary, Map<String, String> launcherOptions, Boolean auth, Boolean tls,
                             Integer replicas, String restart, String checkpoint, String lease, AiEntry ai,
                             String telemetry, String telemetryInterval) {
    }

    record AiEntry(List<String> backends, String device, Integer threads) {
    }

    record ModelEntry(@JsonProperty(required = true) String name, @JsonProperty(required = true) String exe,
                      List<String> args, Map<String, String> env, String workDir, String launcher, RunEntry run,
                      Map<String, String> params, List<String> configFiles, ColocatedEntry colocatedDb,
                      Map<String, String> launcherOptions) {
    }

    /** {@code colocatedDb:} under a model or ensemble: {@code port} or {@code unixSocket}, and the rest optional. */
    record ColocatedEntry(Integer port, String unixSocket, Object socketPermissions, Integer cpus, Object pinning,
                          List<String> interfaces, String backend, List<String> config,
                          List<ColocatedModelEntry> models, List<ColocatedScriptEntry> scripts) {
    }

    /** A model under {@code colocatedDb.models}: name, backend, file required; device CPU by default. */
    record ColocatedModelEntry(@JsonProperty(required = true) String name,
                               @JsonProperty(required = true) String backend, String device,
                               @JsonProperty(required = true) String file, Integer batchSize, Integer minBatchSize,
                               Integer minBatchTimeout, List<String> inputs, List<String> outputs) {
    }

    /** A TorchScript under {@code colocatedDb.scripts}: name and file required; device CPU by default. */
    record ColocatedScriptEntry(@JsonProperty(required = true) String name, String device,
                                @JsonProperty(required = true) String file) {
    }

    record EnsembleEntry(@JsonProperty(required = true) String name, @JsonProperty(required = true) String exe,
                         List<String> args, Map<String, String> env, String workDir, String launcher, RunEntry run,
                         @JsonProperty(required = true) Map<String, List<String>> params, String strategy,
                         Integer samples, Long seed, List<String> configFiles, ColocatedEntry colocatedDb,
                         Map<String, String> launcherOptions) {
    }

    record RunEntry(Integer nodes, Integer tasks, Integer tasksPerNode, Integer cpusPerTask, List<String> runArgs,
                    BatchEntry batch, String alloc) {
    }

    record BatchEntry(String time, String account, String partition, String qos, List<String> options) {
    }
}
