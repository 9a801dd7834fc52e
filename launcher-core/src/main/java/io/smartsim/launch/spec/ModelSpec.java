package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the user asks for: one application run of an experiment. It is started after the experiment's
 * orchestrators are healthy, with {@code SSDB} and {@code SR_DB_TYPE} in its environment.
 *
 * @param name        unique among the experiment's entities; names its directory {@code <expDir>/<name>}
 * @param launcher    launcher name ("local", "slurm", ...), found through the model-launcher SPI
 * @param exe         the executable: a name looked up on PATH, or a path (relative ones against {@code baseDir})
 * @param args        its arguments; {@code ;param;} is replaced by the parameter's value
 * @param env         extra environment, on top of the database variables (a name set here wins);
 *                    {@code ;param;} is replaced in the values
 * @param workDir     working directory; empty means the model's own directory
 * @param run         run settings: nodes, tasks, CPUs, run-command arguments, batch job
 * @param params      parameter values substituted into args, env values and config files
 * @param configFiles text files copied into the model's directory with {@code ;param;} replaced
 * @param baseDir     what relative paths (exe, workDir, configFiles) are relative to: the JVM's working
 *                    directory for the Java API, the spec file's directory for {@code run}
 * @param colocatedDb a database on every node of the model, started before it there (docs/colocated.md); an
 *                    ensemble's members get one each
 * @param launcherOptions launcher-specific settings, as an orchestrator's (the ssh launcher's {@code hosts} and SSH
 *                    settings); a launcher refuses keys it does not take, naming the ones it does
 */
public record ModelSpec(String name, String launcher, String exe, List<String> args, Map<String, String> env,
                        Optional<Path> workDir, RunSettings run, Map<String, String> params, List<Path> configFiles,
                        Path baseDir, Optional<ColocatedDb> colocatedDb, Map<String, String> launcherOptions) {
    static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,62}");
    static final Pattern LAUNCHER = Pattern.compile("[a-z][a-z0-9_-]*");
    static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    public static final String DEFAULT_LAUNCHER = "local";

    public ModelSpec {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new InvalidSpecException("name", "'" + name + "' is not a valid model name; use a letter followed by "
                    + "up to 62 letters, digits, '_' or '-' (for example 'sim')");
        }
        if (launcher == null || !LAUNCHER.matcher(launcher).matches()) {
            throw new InvalidSpecException("launcher", "'" + launcher + "' is not a launcher name; use for example "
                    + "'local'");
        }
        if (exe == null || exe.isBlank()) {
            throw new InvalidSpecException("exe", "missing; give the executable, for example ./sim.sh or python3");
        }
        args = List.copyOf(args == null ? List.of() : args);
        env = ordered(env == null ? Map.of() : env, "env");
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (!ENV_NAME.matcher(e.getKey()).matches()) {
                throw new InvalidSpecException("env", "'" + e.getKey() + "' is not an environment variable name; use "
                        + "letters, digits and '_', not starting with a digit");
            }
        }
        workDir = workDir == null ? Optional.empty() : workDir;
        if (run == null) {
            throw new InvalidSpecException("run", "missing; use RunSettings.defaults() for one process");
        }
        params = ordered(params == null ? Map.of() : params, "params");
        for (String p : params.keySet()) {
            Tags.checkName("params", p);
        }
        configFiles = List.copyOf(configFiles == null ? List.of() : configFiles);
        baseDir = (baseDir == null ? Path.of("") : baseDir).toAbsolutePath().normalize();
        colocatedDb = colocatedDb == null ? Optional.empty() : colocatedDb;
        launcherOptions = ordered(launcherOptions == null ? Map.of() : launcherOptions, "launcherOptions");
    }

    private static <V> Map<String, V> ordered(Map<String, V> m, String field) {
        for (Map.Entry<String, V> e : m.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new InvalidSpecException(field, "a null name or value (" + e.getKey() + "=" + e.getValue()
                        + "); give every entry a name and a value");
            }
        }
        return Collections.unmodifiableMap(new LinkedHashMap<>(m));
    }

    public static Builder builder(String name, String exe) {
        return new Builder().name(name).exe(exe);
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.name = name;
        b.launcher = launcher;
        b.exe = exe;
        b.args = new ArrayList<>(args);
        b.env = new LinkedHashMap<>(env);
        b.workDir = workDir.orElse(null);
        b.run = run;
        b.params = new LinkedHashMap<>(params);
        b.configFiles = new ArrayList<>(configFiles);
        b.baseDir = baseDir;
        b.colocatedDb = colocatedDb.orElse(null);
        b.launcherOptions = new LinkedHashMap<>(launcherOptions);
        return b;
    }

    /** Mutable builder: launcher local, no arguments, one process, relative paths against the working directory. */
    public static final class Builder {
        private String name;
        private String launcher = DEFAULT_LAUNCHER;
        private String exe;
        private List<String> args = new ArrayList<>();
        private Map<String, String> env = new LinkedHashMap<>();
        private Path workDir;
        private RunSettings run = RunSettings.defaults();
        private Map<String, String> params = new LinkedHashMap<>();
        private List<Path> configFiles = new ArrayList<>();
        private Path baseDir;
        private ColocatedDb colocatedDb;
        private Map<String, String> launcherOptions = new LinkedHashMap<>();

        private Builder() {
        }

        public Builder name(String v) { this.name = v; return this; }
        public Builder launcher(String v) { this.launcher = v; return this; }
        public Builder exe(String v) { this.exe = v; return this; }
        public Builder args(List<String> v) { this.args = new ArrayList<>(v); return this; }
        public Builder args(String... v) { return args(List.of(v)); }
        public Builder env(Map<String, String> v) { this.env = new LinkedHashMap<>(v); return this; }
        public Builder env(String key, String value) { this.env.put(key, value); return this; }
        public Builder workDir(Path v) { this.workDir = v; return this; }
        public Builder run(RunSettings v) { this.run = v; return this; }
        public Builder params(Map<String, String> v) { this.params = new LinkedHashMap<>(v); return this; }
        public Builder param(String key, String value) { this.params.put(key, value); return this; }
        public Builder configFiles(List<Path> v) { this.configFiles = new ArrayList<>(v); return this; }
        public Builder configFile(Path v) { this.configFiles.add(v); return this; }
        public Builder baseDir(Path v) { this.baseDir = v; return this; }
        public Builder colocatedDb(ColocatedDb v) { this.colocatedDb = v; return this; }
        public Builder launcherOption(String key, String value) { this.launcherOptions.put(key, value); return this; }
        public Builder launcherOptions(Map<String, String> v) { this.launcherOptions = new LinkedHashMap<>(v); return this; }

        public ModelSpec build() {
            return new ModelSpec(name, launcher, exe, args, env, Optional.ofNullable(workDir), run, params,
                    configFiles, baseDir, Optional.ofNullable(colocatedDb), launcherOptions);
        }
    }
}
