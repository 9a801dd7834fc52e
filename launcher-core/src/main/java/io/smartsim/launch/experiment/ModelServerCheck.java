package io.smartsim.launch.experiment;

import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.spi.Launchers;
import io.smartsim.launch.status.ModelServerStatus;
import io.smartsim.launch.status.OrchestratorStatus;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The model servers an orchestrator's shards record under {@code --ai} with the Redis module (the socket and pid keys
 * of their handles, {@link AiPlanner#HANDLE_SOCKET}, {@link AiPlanner#HANDLE_PID}), one per socket, each judged alive
 * or gone by the orchestrator's launcher ({@link io.smartsim.launch.spi.Launcher#probeModelServers}: this machine's
 * processes for the local launcher, one {@code ps} per host over SSH for the ssh launcher, squeue for Slurm, each
 * shard's module through the data plane for a PBS batch job). What {@code db status} shows.
 */
public final class ModelServerCheck {
    private ModelServerCheck() {
    }

    /**
     * The model servers of {@code s}, asking its launcher; none without model serving, or when its processes were not
     * checked (an orchestrator stopped or failed as recorded). A launcher that cannot be found or asked leaves them
     * {@code UNKNOWN}. {@code plan} is the orchestrator's as recorded: its credentials and TLS files let the launcher
     * log into the shards.
     */
    public static List<ModelServerStatus> of(OrchestratorStatus s, LaunchPlan plan) {
        return of(s, shards -> Launchers.find(s.launcher()).probeModelServers(plan, shards));
    }

    /** As {@link #of(OrchestratorStatus, LaunchPlan)}, with {@code probe} in the launcher's place. */
    static List<ModelServerStatus> of(OrchestratorStatus s,
                                      Function<List<LaunchedShard>, Map<Integer, Liveness>> probe) {
        if (s.liveness().isEmpty()) {
            return List.of();
        }
        Map<String, List<LaunchedShard>> bySocket = new LinkedHashMap<>();
        for (LaunchedShard ls : s.shards()) {
            String socket = ls.handle().get(AiPlanner.HANDLE_SOCKET);
            if (socket != null) {
                bySocket.computeIfAbsent(socket, k -> new ArrayList<>()).add(ls);
            }
        }
        if (bySocket.isEmpty()) {
            return List.of();
        }
        Map<Integer, Liveness> live;
        try {
            live = probe.apply(s.shards());
        } catch (RuntimeException e) {
            live = Map.of(); // not found, or its hosts cannot be reached: unknown
        }
        List<ModelServerStatus> out = new ArrayList<>();
        for (Map.Entry<String, List<LaunchedShard>> e : bySocket.entrySet()) {
            List<LaunchedShard> shards = e.getValue();
            Map<Integer, Liveness> l = live;
            // the newest record wins: a shard restarted or revived later names the running one
            Optional<LaunchedShard> alive = shards.stream().filter(x -> l.get(x.index()) == Liveness.ALIVE)
                    .findFirst();
            boolean known = shards.stream().anyMatch(x -> l.get(x.index()) == Liveness.ALIVE
                    || l.get(x.index()) == Liveness.GONE);
            LaunchedShard any = alive.orElse(shards.get(0));
            String pid = any.handle().get(AiPlanner.HANDLE_PID);
            out.add(new ModelServerStatus(e.getKey(), Optional.ofNullable(pid).map(Long::parseLong),
                    alive.isPresent() ? Liveness.ALIVE : known ? Liveness.GONE : Liveness.UNKNOWN,
                    shards.stream().map(LaunchedShard::index).toList()));
        }
        return out;
    }
}
