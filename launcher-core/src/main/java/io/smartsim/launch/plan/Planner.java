package io.smartsim.launch.plan;

import io.smartsim.launch.InvalidSpecException;
import io.smartsim.launch.OrchestratorSpec;
import io.smartsim.launch.security.Credentials;
import io.smartsim.launch.security.Tls;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Spec + placement -> plan. A pure function: it reads no files and starts nothing. */
public final class Planner {
    private Planner() {
    }

    /**
     * As {@link #plan(String, Path, OrchestratorSpec, Placement, Optional)}, with a newly generated password when
     * the spec asks for authentication: the one input that is not a pure function of the others.
     */
    public static LaunchPlan plan(String experiment, Path expDir, OrchestratorSpec spec, Placement placement) {
        return plan(experiment, expDir, spec, placement,
                spec.auth() ? Optional.of(Credentials.generate()) : Optional.empty());
    }

    /** The plan, with {@code auth} as every shard's ACL user; it must be present exactly when the spec asks for auth. */
    public static LaunchPlan plan(String experiment, Path expDir, OrchestratorSpec spec, Placement placement,
                                  Optional<Credentials> auth) {
        if (auth.isPresent() != spec.auth()) {
            throw new IllegalArgumentException("orchestrator '" + spec.id() + "': auth is " + (spec.auth() ? "on" : "off")
                    + " in the spec but credentials were " + (auth.isPresent() ? "" : "not ") + "given");
        }
        if (placement.nodes().size() != spec.nodes()) {
            throw new InvalidSpecException("nodes", "the " + spec.launcher() + " launcher placed "
                    + placement.nodes().size() + " node(s) but the spec asks for " + spec.nodes());
        }
        refuseUnbuilt(spec);
        Path root = expDir.toAbsolutePath().normalize();
        Path dir = root.resolve(spec.id());
        List<SlotRange> ranges = spec.clustered() ? SlotRange.split(spec.shardCount()) : List.of();
        Map<String, Integer> usedOnHost = new HashMap<>();
        List<ShardPlan> shards = new ArrayList<>();
        int index = 0;
        for (int n = 0; n < spec.nodes(); n++) {
            Placement.Node node = placement.nodes().get(n);
            for (int k = 0; k < spec.instancesPerNode(); k++, index++) {
                int onHost = usedOnHost.merge(node.host(), 1, Integer::sum) - 1;
                int port = spec.port() + onHost;
                int busPort = port + OrchestratorSpec.BUS_PORT_OFFSET;
                int top = spec.clustered() ? busPort : port;
                if (top > 65535) {
                    throw new InvalidSpecException("port", spec.port() + " is too high: host " + node.host() + " runs "
                            + (onHost + 1) + "+ shards, so ports reach " + port
                            + (spec.clustered() ? " and bus port " + busPort : "") + " (over 65535); use a lower base port");
                }
                String name = spec.id() + "_" + index;
                Path work = dir.resolve(name);
                Path log = work.resolve(name + ".log");
                Path conf = work.resolve(spec.backend().id() + ".conf");
                String config = ConfigRenderer.render(experiment, spec, index, node.bindAddresses(), port, work, log,
                        auth, spec.tls() ? Optional.of(Tls.of(dir)) : Optional.empty());
                String binary = spec.serverBinary().map(Path::toString).orElse(spec.backend().binaryName());
                shards.add(new ShardPlan(index, name, n, node.host(), node.bindAddresses(), port, busPort,
                        spec.clustered() ? List.of(ranges.get(index)) : List.of(), work, conf, config, log,
                        List.of(binary, conf.toString())));
            }
        }
        return new LaunchPlan(experiment, root, dir, spec, shards, auth);
    }

    /** Options the spec can carry but no launcher honours yet: refused by name rather than silently ignored. */
    private static void refuseUnbuilt(OrchestratorSpec spec) {
        if (spec.replicas() > 0) throw unbuilt("replicas", "--replicas");
        if (spec.checkpoint().isPresent()) throw unbuilt("checkpoint", "--checkpoint");
        if (spec.ai().isPresent()) throw unbuilt("ai", "--ai");
    }

    private static InvalidSpecException unbuilt(String field, String flag) {
        return new InvalidSpecException(field, flag + " is not available in this build yet; leave it out");
    }
}
