package io.smartsim.launch.supervise;

import io.smartsim.launch.cluster.ClusterNode;
import io.smartsim.launch.cluster.Connections;
import io.smartsim.launch.cluster.HealthChecker;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.util.Deadline;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisException;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Whether a restarted shard has rejoined its orchestrator: the orchestrator healthy with it in place of the old one,
 * and, when clustered, every other shard knowing it, connected and not failing. What {@link Supervisor} waits for
 * after a restart.
 */
final class Rejoin {
    private Rejoin() {
    }

    /**
     * Polls until the orchestrator of {@code plan} (its shards as {@code shards} gives them) is healthy with
     * {@code again} rejoined; the last problem seen if not by {@code deadline}, or if {@code closed} says the
     * watchdog is stopping.
     */
    static Optional<String> await(Supplier<List<LaunchedShard>> shards, LaunchPlan plan, Duration pingTimeout,
                                  BooleanSupplier closed, LaunchedShard again, Deadline deadline)
            throws InterruptedException {
        String problem = "not checked";
        while (!closed.getAsBoolean()) {
            Optional<String> p = problem(shards.get(), plan, pingTimeout, again);
            if (p.isEmpty()) {
                return Optional.empty();
            }
            problem = p.get();
            if (deadline.expired()) {
                return Optional.of(problem);
            }
            Thread.sleep(Math.min(200, Math.max(1, deadline.remaining().toMillis())));
        }
        return Optional.of("the watchdog was stopped while waiting");
    }

    /** What keeps {@code again} from counting as rejoined among {@code current}; empty when nothing does. */
    static Optional<String> problem(List<LaunchedShard> current, LaunchPlan plan, Duration pingTimeout,
                                    LaunchedShard again) {
        List<LaunchedShard> shards = current.stream().map(x -> x.index() == again.index() ? again : x).toList();
        HealthReport h = HealthChecker.check(shards.stream().map(x -> new HealthChecker.Target(x.index(), x.host(),
                x.port())).toList(), plan.clustered(), pingTimeout, plan.access());
        if (!h.healthy()) {
            return h.firstProblem();
        }
        if (!plan.clustered()) {
            return Optional.empty();
        }
        for (LaunchedShard other : shards) {
            if (other.index() == again.index()) {
                continue;
            }
            try (Jedis j = Connections.open(other.host(), other.port(), pingTimeout, plan.access())) {
                Optional<ClusterNode> seen = ClusterNode.parseAll(j.clusterNodes()).stream()
                        .filter(n -> n.port() == again.port() && n.host().equals(again.host())).findFirst();
                if (seen.isEmpty()) {
                    return Optional.of("shard " + other.index() + " does not know " + again.address());
                }
                if (seen.get().troubled() || !"connected".equals(seen.get().linkState())) {
                    return Optional.of("shard " + other.index() + " sees " + again.address() + " as "
                            + seen.get().flags() + ", link " + seen.get().linkState());
                }
            } catch (JedisException e) {
                return Optional.of("shard " + other.index() + ": " + e.getMessage());
            }
        }
        return Optional.empty();
    }
}
