package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the user asks for: N copies of one application, each with its own parameters. Members are models named
 * {@code <name>_<i>}, living in {@code <expDir>/<name>/<name>_<i>}.
 *
 * @param name        unique among the experiment's entities
 * @param member      everything but the name and the parameters, as a model: launcher, exe, args, env, run
 *                    settings, config files, base directory ({@code ;param;} placeholders allowed)
 * @param params      parameter name to its values, in order
 * @param strategy    all_perm, step or random
 * @param samples     members to draw, for random
 * @param seed        the generator's seed, for random
 */
public record EnsembleSpec(String name, ModelSpec member, Map<String, List<String>> params, Strategy strategy,
                           Optional<Integer> samples, Optional<Long> seed) {
    public EnsembleSpec {
        if (name == null || !ModelSpec.NAME.matcher(name).matches()) {
            throw new InvalidSpecException("name", "'" + name + "' is not a valid ensemble name; use a letter "
                    + "followed by up to 62 letters, digits, '_' or '-' (for example 'sweep')");
        }
        if (member == null) {
            throw new InvalidSpecException("exe", "missing; give the members' executable");
        }
        if (!member.params().isEmpty()) {
            throw new InvalidSpecException("params", "the members' parameters come from the ensemble's lists; give "
                    + "them as lists on the ensemble, not on the member model");
        }
        Map<String, List<String>> copy = new LinkedHashMap<>();
        (params == null ? Map.<String, List<String>>of() : params).forEach((k, v) -> {
            Tags.checkName("params", k);
            copy.put(k, List.copyOf(v));
        });
        params = Collections.unmodifiableMap(copy);
        if (strategy == null) {
            throw new InvalidSpecException("strategy", "missing; use all_perm, step or random");
        }
        samples = samples == null ? Optional.empty() : samples;
        seed = seed == null ? Optional.empty() : seed;
        ParamGrid.expand(params, strategy, samples, seed); // rejects impossible grids now, not at start
    }

    /** The members, in order: {@code <name>_0}, {@code <name>_1}, ... each with its parameters. */
    public List<ModelSpec> members() {
        List<Map<String, String>> grid = ParamGrid.expand(params, strategy, samples, seed);
        List<ModelSpec> out = new ArrayList<>();
        for (int i = 0; i < grid.size(); i++) {
            out.add(member.toBuilder().name(name + "_" + i).params(grid.get(i)).build());
        }
        return out;
    }

    public static Builder builder(String name, String exe) {
        return new Builder(name, exe);
    }

    /** Mutable builder; the strategy defaults to all_perm. */
    public static final class Builder {
        private final String name;
        private final ModelSpec.Builder member;
        private final Map<String, List<String>> params = new LinkedHashMap<>();
        private Strategy strategy = Strategy.ALL_PERM;
        private Integer samples;
        private Long seed;

        private Builder(String name, String exe) {
            this.name = name;
            this.member = ModelSpec.builder(name, exe);
        }

        public Builder launcher(String v) { member.launcher(v); return this; }
        public Builder args(List<String> v) { member.args(v); return this; }
        public Builder args(String... v) { member.args(v); return this; }
        public Builder env(Map<String, String> v) { member.env(v); return this; }
        public Builder env(String key, String value) { member.env(key, value); return this; }
        public Builder workDir(Path v) { member.workDir(v); return this; }
        public Builder run(RunSettings v) { member.run(v); return this; }
        public Builder configFiles(List<Path> v) { member.configFiles(v); return this; }
        public Builder configFile(Path v) { member.configFile(v); return this; }
        public Builder baseDir(Path v) { member.baseDir(v); return this; }
        /** Every member gets its own: member i on port + i, or on the socket path with "-i" before its extension. */
        public Builder colocatedDb(ColocatedDb v) { member.colocatedDb(v); return this; }
        public Builder launcherOption(String key, String value) { member.launcherOption(key, value); return this; }
        public Builder param(String key, List<String> values) { params.put(key, new ArrayList<>(values)); return this; }
        public Builder param(String key, String... values) { return param(key, List.of(values)); }
        public Builder strategy(Strategy v) { this.strategy = v; return this; }
        public Builder samples(int v) { this.samples = v; return this; }
        public Builder seed(long v) { this.seed = v; return this; }

        public EnsembleSpec build() {
            return new EnsembleSpec(name, member.build(), params, strategy, Optional.ofNullable(samples),
                    Optional.ofNullable(seed));
        }
    }
}
