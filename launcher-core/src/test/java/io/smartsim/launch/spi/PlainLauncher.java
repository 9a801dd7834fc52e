package io.smartsim.launch.spi;

import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A fake, for the capability checks only: a launcher with none of the capability types (not {@link Restartable},
 * {@link Leasable} or {@link PortChooser}). Every real launcher here has all of them, so no real one can show what
 * core does with a launcher that lacks one. It records each SPI call and starts nothing. Registered for core's own
 * tests only (the test jar leaves its services file out, so other modules never see it).
 */
public final class PlainLauncher implements Launcher {
    public static final String NAME = "plain";
    /** Every SPI call made on any instance, in order ("place", "preflight", "start", ...). */
    public static final List<String> CALLS = new CopyOnWriteArrayList<>();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Placement place(OrchestratorSpec spec) {
        CALLS.add("place");
        return new Placement(List.of(new Placement.Node("localhost", List.of("127.0.0.1"))));
    }

    @Override
    public void preflight(LaunchPlan plan) {
        CALLS.add("preflight");
    }

    @Override
    public List<LaunchedShard> start(LaunchPlan plan, LaunchContext context) {
        CALLS.add("start");
        throw new IllegalStateException("the plain launcher starts nothing");
    }

    @Override
    public Map<Integer, Liveness> probe(List<LaunchedShard> shards) {
        CALLS.add("probe");
        return Map.of();
    }

    @Override
    public void stop(List<LaunchedShard> shards, Duration grace) {
        CALLS.add("stop");
    }
}
