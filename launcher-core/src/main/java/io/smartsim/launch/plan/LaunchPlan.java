package io.smartsim.launch.plan;

import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.security.Access;
import io.smartsim.launch.security.Credentials;
import io.smartsim.launch.security.Tls;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The immutable description of what will run for one orchestrator; computed by {@link Planner} from a spec
 * and the launcher's placement, printable without starting anything.
 *
 * @param experiment experiment name
 * @param expDir     absolute experiment directory
 * @param dir        this orchestrator's directory, {@code <expDir>/<id>}
 * @param spec       the validated spec it was made from
 * @param shards     one entry per shard, by index
 * @param auth       the ACL user every shard gets (its password is in the shard configs too); empty without auth.
 *                   A plan holds the secret: show it through {@link #redacted()}
 * @param modelServers under {@code --ai} on a launcher that serves it through the Redis module: one model server per
 *                   host, started before the host's shards; empty otherwise (and in manifests written before it)
 */
public record LaunchPlan(String experiment, Path expDir, Path dir, OrchestratorSpec spec, List<ShardPlan> shards,
                         Optional<Credentials> auth, List<ModelServerPlan> modelServers) {
    public LaunchPlan {
        shards = List.copyOf(shards);
        auth = auth == null ? Optional.empty() : auth;
        modelServers = modelServers == null ? List.of() : List.copyOf(modelServers);
    }

    /** A plan without model servers (no {@code --ai}). */
    public LaunchPlan(String experiment, Path expDir, Path dir, OrchestratorSpec spec, List<ShardPlan> shards,
                      Optional<Credentials> auth) {
        this(experiment, expDir, dir, spec, shards, auth, List.of());
    }

    /** A plan without authentication. */
    public LaunchPlan(String experiment, Path expDir, Path dir, OrchestratorSpec spec, List<ShardPlan> shards) {
        this(experiment, expDir, dir, spec, shards, Optional.empty());
    }

    /** How control connections get into the shards: the ACL user, and the orchestrator's CA under {@code --tls}. */
    public Access access() {
        return Access.of(auth, tls());
    }

    /** The orchestrator's TLS files ({@code <dir>/tls}), written at start; empty without {@code --tls}. */
    public Optional<Tls> tls() {
        return spec.tls() ? Optional.of(Tls.of(dir)) : Optional.empty();
    }

    /** This plan with the password replaced by {@link Credentials#REDACTED} everywhere: what plans and dry runs print. */
    public LaunchPlan redacted() {
        if (auth.isEmpty()) {
            return this;
        }
        Credentials c = auth.get();
        return new LaunchPlan(experiment, expDir, dir, spec, shards.stream().map(s -> s.withConfig(c.redact(s.config())))
                .toList(), Optional.of(c.redacted()), modelServers);
    }

    /** The planned masters (every shard without {@code --replicas}), by index. */
    public List<ShardPlan> masters() {
        return shards.stream().filter(s -> !s.replica()).toList();
    }

    /** Server processes each node runs: its masters and the replicas placed on it (the same count on every node). */
    public int processesPerNode() {
        return spec.instancesPerNode() * (1 + spec.replicas());
    }

    /**
     * What the placement gives up, for the plan and the start to print: each replica on the same host as its master
     * (one host failure loses both); on one host, a single line saying so for all of them. Empty without replicas or
     * when every replica has a host of its own.
     */
    public List<String> warnings() {
        List<String> out = new java.util.ArrayList<>();
        List<ShardPlan> shared = shards.stream().filter(s -> s.replicaOf().map(m -> shards.get(m).host()
                .equals(s.host())).orElse(false)).toList();
        if (shared.isEmpty()) {
            return List.of();
        }
        if (shards.stream().map(ShardPlan::host).distinct().count() == 1) {
            out.add("every replica shares host " + shards.get(0).host() + " with its master: replicas cover a crashed "
                    + "process, but one host failure loses masters and replicas alike");
            return out;
        }
        for (ShardPlan s : shared) {
            ShardPlan m = shards.get(s.replicaOf().orElseThrow());
            out.add("replica " + s.name() + " of " + m.name() + " shares host " + s.host() + " with its master: one "
                    + "host failure loses both (" + spec.nodes() + " node(s) for " + spec.replicas()
                    + " replica(s) per master; use more nodes than replicas)");
        }
        return out;
    }

    public String id() {
        return spec.id();
    }

    /** The model server the shard {@code index} loads the module with, if it has one. */
    public Optional<ModelServerPlan> modelServerOf(int index) {
        return modelServers.stream().filter(m -> m.shards().contains(index)).findFirst();
    }

    public boolean clustered() {
        return spec.clustered();
    }
}
