package io.smartsim.launch.plan;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
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
        return plan(experiment, expDir, spec, placement, auth, spec.ai().map(a -> AiInstall.locate()));
    }

    /**
     * The plan, with {@code ai} as where the model serving comes from (the model server's class path and the Redis
     * module); it must be present exactly when the spec asks for {@code --ai}, and hold every backend the spec names.
     */
    public static LaunchPlan plan(String experiment, Path expDir, OrchestratorSpec spec, Placement placement,
                                  Optional<Credentials> auth, Optional<AiInstall> ai) {
        if (ai.isPresent() != spec.ai().isPresent()) {
            throw new IllegalArgumentException("orchestrator '" + spec.id() + "': --ai is "
                    + (spec.ai().isPresent() ? "on" : "off") + " in the spec but an AI install was "
                    + (ai.isPresent() ? "" : "not ") + "given");
        }
        // Under --ai every shard loads the Redis module, with a model server per host (AiPlanner).
        boolean module = spec.ai().isPresent();
        if (module) {
            ai.get().require(spec.ai().get().backends());
        }
        Optional<Path> moduleFile = module ? Optional.of(ai.get().requireModule()) : Optional.empty();
        if (auth.isPresent() != spec.auth()) {
            throw new IllegalArgumentException("orchestrator '" + spec.id() + "': auth is " + (spec.auth() ? "on" : "off")
                    + " in the spec but credentials were " + (auth.isPresent() ? "" : "not ") + "given");
        }
        if (placement.nodes().size() != spec.nodes()) {
            throw new InvalidSpecException("nodes", "the " + spec.launcher() + " launcher placed "
                    + placement.nodes().size() + " node(s) but the spec asks for " + spec.nodes());
        }
        Path root = expDir.toAbsolutePath().normalize();
        Path dir = root.resolve(spec.id());
        List<SlotRange> ranges = spec.clustered() ? SlotRange.split(spec.shardCount()) : List.of();
        Map<String, Integer> usedOnHost = new HashMap<>();
        List<ShardPlan> shards = new ArrayList<>();
        int index = 0;
        for (int n = 0; n < spec.nodes(); n++) {
            for (int k = 0; k < spec.instancesPerNode(); k++, index++) {
                shards.add(shard(experiment, dir, spec, placement, auth, usedOnHost, index, n,
                        spec.clustered() ? List.of(ranges.get(index)) : List.of(), Optional.empty()));
            }
        }
        // Replicas after every master, so that masters keep their indexes, names and ports (and a host's replicas take
        // the ports after its masters'). The r-th replica of the master on node n goes on node n + r + 1: another node
        // than its master's and its other replicas' whenever there are more nodes than replicas per master.
        int masters = index;
        for (int m = 0; m < masters; m++) {
            int masterNode = shards.get(m).node();
            for (int r = 0; r < spec.replicas(); r++, index++) {
                shards.add(shard(experiment, dir, spec, placement, auth, usedOnHost, index,
                        (masterNode + r + 1) % spec.nodes(), List.of(), Optional.of(m)));
            }
        }
        if (!module) {
            return new LaunchPlan(experiment, root, dir, spec, shards, auth);
        }
        List<ModelServerPlan> servers = AiPlanner.modelServers(dir, spec.ai().get(), ai.get(), shards);
        List<ShardPlan> loading = new ArrayList<>();
        for (ShardPlan s : shards) {
            ModelServerPlan m = servers.stream().filter(x -> x.shards().contains(s.index())).findFirst().orElseThrow();
            loading.add(s.withConfig(s.config() + AiPlanner.moduleLines(spec.ai().get(), moduleFile.get(), m)));
        }
        return new LaunchPlan(experiment, root, dir, spec, loading, auth, servers);
    }

    private static ShardPlan shard(String experiment, Path dir, OrchestratorSpec spec, Placement placement,
                                   Optional<Credentials> auth, Map<String, Integer> usedOnHost,
                                   int index, int n,
                                   List<SlotRange> slots, Optional<Integer> replicaOf) {
        Placement.Node node = placement.nodes().get(n);
        int onHost = usedOnHost.merge(node.host(), 1, Integer::sum) - 1;
        int port = spec.port() + onHost;
        int busPort = port + OrchestratorSpec.BUS_PORT_OFFSET;
        int top = spec.clustered() ? busPort : port;
        if (top > 65535) {
            String what = spec.replicas() == 0 ? (onHost + 1) + "+ shards"
                    : (onHost + 1) + "+ processes (" + spec.instancesPerNode() + " master(s) per node and "
                    + spec.replicas() + " replica(s) of each master)";
            throw new InvalidSpecException(spec.replicas() == 0 ? "port" : "port/replicas", spec.port()
                    + " is too high: host " + node.host() + " runs " + what + ", so ports reach " + port
                    + (spec.clustered() ? " and bus port " + busPort : "") + " (over 65535); use a lower base port"
                    + (spec.replicas() == 0 ? "" : " or fewer replicas"));
        }
        String name = spec.id() + "_" + index;
        Path work = dir.resolve(name);
        Path log = work.resolve(name + ".log");
        Path conf = work.resolve(spec.backend().id() + ".conf");
        String config = ConfigRenderer.render(experiment, spec, index, node.bindAddresses(), port, work, log,
                auth, spec.tls() ? Optional.of(Tls.of(dir)) : Optional.empty());
        String binary = spec.serverBinary().map(Path::toString).orElse(spec.backend().binaryName());
        List<String> argv = List.of(binary, conf.toString());
        return new ShardPlan(index, name, n, node.host(), node.bindAddresses(), port, busPort, slots, work, conf,
                config, log, argv,
                replicaOf.isPresent() ? ShardPlan.Role.REPLICA : ShardPlan.Role.MASTER, replicaOf);
    }

}
