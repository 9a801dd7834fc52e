package io.smartsim.launch.plan;

import io.smartsim.launch.OrchestratorSpec;
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
 */
public record LaunchPlan(String experiment, Path expDir, Path dir, OrchestratorSpec spec, List<ShardPlan> shards,
                         Optional<Credentials> auth) {
    public LaunchPlan {
        shards = List.copyOf(shards);
        auth = auth == null ? Optional.empty() : auth;
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
                .toList(), Optional.of(c.redacted()));
    }

    public String id() {
        return spec.id();
    }

    public boolean clustered() {
        return spec.clustered();
    }
}
