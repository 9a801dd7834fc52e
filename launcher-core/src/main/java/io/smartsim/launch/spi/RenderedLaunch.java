package io.smartsim.launch.spi;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a model launch would run, for a dry run.
 *
 * @param argv    the command executed (run command included, for example {@code srun ... ./sim})
 * @param env     the environment it adds: database variables, then the model's own
 * @param scripts files it would write, by file name (a batch script), rendered
 */
public record RenderedLaunch(List<String> argv, Map<String, String> env, Map<String, String> scripts) {
    public RenderedLaunch {
        argv = List.copyOf(argv);
        env = Collections.unmodifiableMap(new LinkedHashMap<>(env));
        scripts = Collections.unmodifiableMap(new LinkedHashMap<>(scripts));
    }
}
