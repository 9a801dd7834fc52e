package io.smartsim.launch.experiment;

import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.status.ModelServerStatus;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.status.Status;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ModelServerCheck}: the model servers {@code db status} shows under {@code --ai} (what the CLI computed itself
 * before {@code Experiment.modelServers}), one per socket the shards record, judged by what the launcher answers.
 */
class ModelServerCheckTest {
    /** A launcher that must not be asked. */
    static final Function<List<LaunchedShard>, Map<Integer, Liveness>> NOT_ASKED = shards -> {
        throw new AssertionError("the launcher was asked about " + shards);
    };

    static LaunchedShard shard(int index, String socket, String pid) {
        Map<String, String> handle = new LinkedHashMap<>();
        if (socket != null) {
            handle.put(AiPlanner.HANDLE_SOCKET, socket);
            handle.put(AiPlanner.HANDLE_PID, pid);
        }
        return new LaunchedShard(index, "db_" + index, "127.0.0.1", 6780 + index, Optional.of(100L + index),
                Optional.empty(), handle);
    }

    static OrchestratorStatus checked(List<LaunchedShard> shards) {
        Map<Integer, Liveness> live = new LinkedHashMap<>();
        shards.forEach(s -> live.put(s.index(), Liveness.ALIVE));
        return new OrchestratorStatus("db", "local", Status.RUNNING, "RUNNING", shards, live, Optional.empty(),
                Optional.empty());
    }

    @Test
    void oneServerPerSocketWithItsShardsPidAndWhatTheLauncherAnswers() {
        OrchestratorStatus s = checked(List.of(shard(0, "/x/a.sock", "500"), shard(1, "/x/a.sock", "500"),
                shard(2, "/x/b.sock", "600")));
        assertThat(ModelServerCheck.of(s, shards -> Map.of(0, Liveness.ALIVE, 1, Liveness.ALIVE, 2, Liveness.GONE)))
                .containsExactly(new ModelServerStatus("/x/a.sock", Optional.of(500L), Liveness.ALIVE, List.of(0, 1)),
                        new ModelServerStatus("/x/b.sock", Optional.of(600L), Liveness.GONE, List.of(2)));
    }

    @Test
    void theShardWhoseServerIsAliveNamesItsPid() {
        // shard 0's record names the server that died; shard 1, revived later, names the one running now
        OrchestratorStatus s = checked(List.of(shard(0, "/x/a.sock", "500"), shard(1, "/x/a.sock", "700")));
        assertThat(ModelServerCheck.of(s, shards -> Map.of(0, Liveness.GONE, 1, Liveness.ALIVE)))
                .containsExactly(new ModelServerStatus("/x/a.sock", Optional.of(700L), Liveness.ALIVE, List.of(0, 1)));
    }

    @Test
    void aLauncherThatCannotBeAskedOrDoesNotKnowLeavesThemUnknown() {
        OrchestratorStatus s = checked(List.of(shard(0, "/x/a.sock", "500"), shard(1, "/x/a.sock", "700")));
        ModelServerStatus unknown = new ModelServerStatus("/x/a.sock", Optional.of(500L), Liveness.UNKNOWN,
                List.of(0, 1));
        assertThat(ModelServerCheck.of(s, shards -> {
            throw new IllegalStateException("no launcher 'local' on the class path");
        })).containsExactly(unknown);
        assertThat(ModelServerCheck.of(s, shards -> Map.of(0, Liveness.UNKNOWN))).containsExactly(unknown);
    }

    @Test
    void noModelServingOrNoCheckedProcessesIsNoneWithoutAskingTheLauncher() {
        assertThat(ModelServerCheck.of(checked(List.of(shard(0, null, null), shard(1, null, null))), NOT_ASKED))
                .isEmpty();
        OrchestratorStatus stopped = new OrchestratorStatus("db", "local", Status.STOPPED, "STOPPED",
                List.of(shard(0, "/x/a.sock", "500")), Map.of(), Optional.empty(), Optional.empty());
        assertThat(ModelServerCheck.of(stopped, NOT_ASKED)).isEmpty();
    }
}
