package io.smartsim.launch.experiment;

import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.plan.LaunchPlan;

import java.util.Collection;
import java.util.HashSet;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;

/**
 * {@code --port auto} across the orchestrators of one experiment: the launcher finds ports free on its nodes, but
 * orchestrators created here and not started yet hold none of theirs, so their planned ports look free too. Given
 * the ports already taken, a base is moved past them. Pure, but for the launcher's own search it is handed.
 */
public final class PortReservation {
    /** How many times the launcher is asked again before its last answer is taken as it is. */
    static final int ATTEMPTS = 64;

    private PortReservation() {
    }

    /** Every port {@code plans} hold: each shard's port and its bus port. */
    public static Set<Integer> taken(Collection<LaunchPlan> plans) {
        Set<Integer> taken = new HashSet<>();
        for (LaunchPlan p : plans) {
            p.shards().forEach(s -> {
                taken.add(s.port());
                taken.add(s.busPort());
                taken.addAll(AiPlanner.ports(p, s.port()));
            });
        }
        return taken;
    }

    /**
     * The next base port to try for {@code spec}: one past the highest of its shard ports whose own or bus port is in
     * {@code taken}; empty when none is (the spec's ports are free of them).
     */
    static OptionalInt nextBase(OrchestratorSpec spec, Set<Integer> taken) {
        int first = spec.port();
        int last = first + spec.processCount() - 1;
        OptionalInt top = IntStream.rangeClosed(first, last)
                .filter(p -> taken.contains(p) || taken.contains(p + OrchestratorSpec.BUS_PORT_OFFSET)
                        || AiPlanner.ports(spec, p).stream().anyMatch(taken::contains))
                .max();
        return top.isPresent() ? OptionalInt.of(top.getAsInt() + 1) : OptionalInt.empty();
    }

    /**
     * The spec with its ports chosen: {@code search} (the launcher's {@code choosePorts}) answers first; under
     * {@code --port auto} it is asked again from past every port of its answer that {@code taken} holds, until an
     * answer clears them ({@link #ATTEMPTS} at most; the last answer then stands and preflight judges it).
     */
    public static OrchestratorSpec choose(OrchestratorSpec requested, Set<Integer> taken,
                                   UnaryOperator<OrchestratorSpec> search) {
        OrchestratorSpec spec = search.apply(requested);
        if (!requested.autoPort()) {
            return spec;
        }
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            OptionalInt next = nextBase(spec, taken);
            if (next.isEmpty()) {
                return spec;
            }
            spec = search.apply(spec.toBuilder().port(next.getAsInt()).build());
        }
        return spec;
    }
}
