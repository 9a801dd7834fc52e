package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/** Expands an ensemble's parameter lists into one parameter map per member. Pure. */
public final class ParamGrid {
    /** An ensemble larger than this is almost certainly a mistake in the lists. */
    public static final int MAX_MEMBERS = 100_000;

    private ParamGrid() {
    }

    /**
     * The members' parameters, in member order.
     *
     * @param params  name to values, in the order given (the first varies slowest for all_perm)
     * @param samples for RANDOM: how many distinct combinations
     * @param seed    for RANDOM: the generator's seed, so that the plan can be printed and repeated
     */
    public static List<Map<String, String>> expand(Map<String, List<String>> params, Strategy strategy,
                                                   Optional<Integer> samples, Optional<Long> seed) {
        List<String> names = new ArrayList<>(params.keySet());
        for (String n : names) {
            if (params.get(n).isEmpty()) {
                throw new InvalidSpecException("params." + n, "has no values; give at least one");
            }
        }
        if (strategy != Strategy.RANDOM && (samples.isPresent() || seed.isPresent())) {
            throw new InvalidSpecException(samples.isPresent() ? "samples" : "seed", "only the random strategy "
                    + "takes samples and seed, but the strategy is " + strategy.id());
        }
        return switch (strategy) {
            case ALL_PERM -> product(params, names);
            case STEP -> step(params, names);
            case RANDOM -> random(params, names, samples, seed);
        };
    }

    private static long combinations(Map<String, List<String>> params, List<String> names) {
        long total = 1;
        for (String n : names) {
            total = Math.multiplyExact(total, params.get(n).size());
        }
        return total;
    }

    private static List<Map<String, String>> product(Map<String, List<String>> params, List<String> names) {
        long total = combinations(params, names);
        if (total > MAX_MEMBERS) {
            throw new InvalidSpecException("params", "all_perm of " + describe(params, names) + " = " + total
                    + " members, more than " + MAX_MEMBERS + "; use fewer values, step, or random with samples");
        }
        List<Map<String, String>> out = new ArrayList<>();
        for (long i = 0; i < total; i++) {
            out.add(combination(params, names, i));
        }
        return out;
    }

    /** The i-th combination in all_perm order: the last parameter varies fastest. */
    private static Map<String, String> combination(Map<String, List<String>> params, List<String> names, long i) {
        Map<String, String> m = new LinkedHashMap<>();
        long rest = i;
        for (int k = names.size() - 1; k >= 0; k--) {
            List<String> values = params.get(names.get(k));
            m.put(names.get(k), values.get((int) (rest % values.size())));
            rest /= values.size();
        }
        Map<String, String> ordered = new LinkedHashMap<>();
        names.forEach(n -> ordered.put(n, m.get(n)));
        return ordered;
    }

    private static List<Map<String, String>> step(Map<String, List<String>> params, List<String> names) {
        if (names.isEmpty()) {
            return List.of(Map.of());
        }
        int n = params.get(names.get(0)).size();
        for (String name : names) {
            if (params.get(name).size() != n) {
                throw new InvalidSpecException("params", "step takes the i-th value of every list, so the lists must "
                        + "be equally long, but " + lengths(params, names) + "; make them equal or use all_perm");
            }
        }
        List<Map<String, String>> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, String> m = new LinkedHashMap<>();
            for (String name : names) {
                m.put(name, params.get(name).get(i));
            }
            out.add(m);
        }
        return out;
    }

    private static List<Map<String, String>> random(Map<String, List<String>> params, List<String> names,
                                                    Optional<Integer> samples, Optional<Long> seed) {
        if (samples.isEmpty()) {
            throw new InvalidSpecException("samples", "missing: the random strategy needs the number of members, "
                    + "for example samples: 4");
        }
        if (seed.isEmpty()) {
            throw new InvalidSpecException("seed", "missing: the random strategy needs a seed, so that the plan can "
                    + "be printed and repeated, for example seed: 42");
        }
        long total = combinations(params, names);
        int n = samples.get();
        if (n < 1 || n > total) {
            throw new InvalidSpecException("samples", n + " distinct members cannot be drawn from "
                    + describe(params, names) + " = " + total + " combinations; use 1 to " + total);
        }
        if (total > 10L * MAX_MEMBERS) {
            throw new InvalidSpecException("params", describe(params, names) + " = " + total + " combinations, more "
                    + "than " + 10L * MAX_MEMBERS + " to draw from; use fewer values");
        }
        List<Long> order = new ArrayList<>();
        for (long i = 0; i < total; i++) {
            order.add(i);
        }
        // java.util.Random is specified exactly, so a seed gives the same members on every JVM.
        Collections.shuffle(order, new Random(seed.get()));
        List<Map<String, String>> out = new ArrayList<>();
        for (long i : order.subList(0, n)) {
            out.add(combination(params, names, i));
        }
        return out;
    }

    private static String lengths(Map<String, List<String>> params, List<String> names) {
        List<String> parts = new ArrayList<>();
        for (String n : names) {
            parts.add(n + " has " + params.get(n).size());
        }
        return String.join(", ", parts);
    }

    private static String describe(Map<String, List<String>> params, List<String> names) {
        List<String> parts = new ArrayList<>();
        for (String n : names) {
            parts.add(n + " (" + params.get(n).size() + ")");
        }
        return String.join(" x ", parts);
    }
}
