package io.smartsim.launch.planned;

import io.smartsim.launch.spec.RunSettings;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The immutable description of one model run, parameters substituted; made by the internal
 * {@code entity.ModelPlanner}, printable without starting anything. The database variables are not in it: they are
 * known once the orchestrators run.
 *
 * @param name     model name
 * @param ensemble the ensemble it belongs to, if any
 * @param launcher launcher name
 * @param dir      its directory under the experiment: {@code <expDir>/<name>} or {@code <expDir>/<ensemble>/<name>}
 * @param workDir  where it runs ({@code dir} unless the spec says otherwise)
 * @param exe      the executable: a name for PATH lookup, or an absolute path
 * @param args     its arguments, parameters substituted
 * @param env      its extra environment, parameters substituted
 * @param run      run settings
 * @param params   its parameter values
 * @param files    config files to write into {@code dir}, rendered
 * @param stdout   where its stdout goes
 * @param stderr   where its stderr goes
 * @param colocated its colocated database, planned (a database on every node it runs on)
 * @param launcherOptions launcher-specific settings, as given ({@link io.smartsim.launch.spec.ModelSpec})
 */
public record ModelPlan(String name, Optional<String> ensemble, String launcher, Path dir, Path workDir, String exe,
                        List<String> args, Map<String, String> env, RunSettings run, Map<String, String> params,
                        List<RenderedFile> files, Path stdout, Path stderr,
                        Optional<ColocatedPlan> colocated, Map<String, String> launcherOptions) {
    public ModelPlan {
        ensemble = ensemble == null ? Optional.empty() : ensemble;
        args = List.copyOf(args);
        env = Collections.unmodifiableMap(new LinkedHashMap<>(env));
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        files = List.copyOf(files);
        colocated = colocated == null ? Optional.empty() : colocated;
        launcherOptions = Collections.unmodifiableMap(new LinkedHashMap<>(launcherOptions == null ? Map.of()
                : launcherOptions));
    }

    /** The command line without any run command: exe and args. */
    public List<String> argv() {
        List<String> out = new ArrayList<>();
        out.add(exe);
        out.addAll(args);
        return out;
    }

    /** What each rank runs: {@link #argv()}, through the colocated database's wrapper when it has one. */
    public List<String> rankArgv() {
        return colocated.map(c -> c.wrap(argv())).orElseGet(this::argv);
    }

    /** "Model" or "Ensemble member", for the summary table. */
    public String type() {
        return ensemble.isPresent() ? "Ensemble member" : "Model";
    }

    /**
     * A config file as it will be written.
     *
     * @param source  the tagged file given
     * @param target  where the rendered copy goes
     * @param content the rendered text
     */
    public record RenderedFile(Path source, Path target, String content) {
    }
}
