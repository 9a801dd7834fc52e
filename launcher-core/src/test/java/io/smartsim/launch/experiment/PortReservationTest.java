package io.smartsim.launch.experiment;

import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.plan.AiInstall;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code --port auto} across the orchestrators of one experiment, as a function of the ports already taken. */
class PortReservationTest {
    private static final int BASE = 41000;

    /** A fixed install: planning {@code --ai} needs one, and nothing here runs it. */
    private static final AiInstall INSTALL = new AiInstall("/usr/bin/java", "/opt/smartsim/ai/*", "/opt/smartsim/ai",
            List.of("ONNX"), Optional.of(Path.of("/opt/smartsim/ai/smartsim-ai.so")));

    private static OrchestratorSpec.Builder spec(int shards) {
        return OrchestratorSpec.builder().auth(false).nodes(1).instancesPerNode(shards).port(BASE).autoPort(true);
    }

    private static LaunchPlan plan(OrchestratorSpec spec) {
        return Planner.plan("exp", Path.of("/tmp/exp"), spec, new Placement(List.of(
                new Placement.Node("localhost", List.of("127.0.0.1")))), Optional.empty(), spec.ai().map(a -> INSTALL));
    }

    /** A launcher's search that finds every port free: it answers with the base it was asked about. */
    private static final UnaryOperator<OrchestratorSpec> ALL_FREE = s -> s;

    @Test
    void takenHoldsEachShardsPortAndBusPort() {
        LaunchPlan clustered = plan(spec(3).id("a").build());
        LaunchPlan ai = plan(spec(1).id("b").port(BASE + 100).ai(AiSpec.of(List.of("onnx"))).build());
        assertThat(PortReservation.taken(List.of(clustered, ai))).containsExactlyInAnyOrder(
                BASE, BASE + 1, BASE + 2,
                BASE + OrchestratorSpec.BUS_PORT_OFFSET, BASE + 1 + OrchestratorSpec.BUS_PORT_OFFSET,
                BASE + 2 + OrchestratorSpec.BUS_PORT_OFFSET,
                BASE + 100, ai.shards().get(0).busPort());
    }

    @Test
    void nothingTakenKeepsTheBase() {
        assertThat(PortReservation.nextBase(spec(3).build(), Set.of())).isEmpty();
        assertThat(PortReservation.choose(spec(3).build(), Set.of(), ALL_FREE).port()).isEqualTo(BASE);
    }

    @Test
    void theNextBaseIsPastTheHighestShardPortWhoseOwnOrBusPortIsTaken() {
        assertThat(PortReservation.nextBase(spec(3).build(), Set.of(BASE, BASE + 1))).isEqualTo(OptionalInt.of(BASE + 2));
        assertThat(PortReservation.nextBase(spec(3).build(), Set.of(BASE + 2 + OrchestratorSpec.BUS_PORT_OFFSET)))
                .as("a bus port taken moves the base past its shard").isEqualTo(OptionalInt.of(BASE + 3));
        assertThat(PortReservation.nextBase(spec(1).ai(AiSpec.of(List.of("onnx"))).build(), Set.of(BASE + 20000)))
                .as("an --ai shard takes no port + 20000 (issue 16: the module serves on its own port)").isEmpty();
        assertThat(PortReservation.nextBase(spec(3).build(), Set.of(BASE - 1, BASE + 3)))
                .as("ports around the range are not its own").isEmpty();
    }

    @Test
    void anotherOrchestratorsPlannedPortsPushTheBasePastThem() {
        Set<Integer> taken = PortReservation.taken(List.of(plan(spec(3).id("first").build())));
        OrchestratorSpec second = PortReservation.choose(spec(3).id("second").build(), taken, ALL_FREE);
        assertThat(second.port()).isEqualTo(BASE + 3);
    }

    @Test
    void theLauncherIsAskedAgainFromTheNewBaseAndItsAnswerIsCheckedAgain() {
        List<Integer> asked = new ArrayList<>();
        // The launcher sees BASE+3 busy on its node (something else runs there): it answers one past it.
        UnaryOperator<OrchestratorSpec> search = s -> {
            asked.add(s.port());
            return s.port() == BASE + 3 ? s.toBuilder().port(BASE + 4).build() : s;
        };
        Set<Integer> taken = Set.of(BASE, BASE + 1, BASE + 2, BASE + 4 + 2); // another orchestrator's ports
        OrchestratorSpec chosen = PortReservation.choose(spec(3).build(), taken, search);
        assertThat(asked).containsExactly(BASE, BASE + 3, BASE + 7);
        assertThat(chosen.port()).isEqualTo(BASE + 7);
    }

    @Test
    void aFixedPortIsTheLaunchersAnswerWhateverIsTaken() {
        OrchestratorSpec fixed = spec(3).autoPort(false).build();
        assertThat(PortReservation.choose(fixed, Set.of(BASE), ALL_FREE).port()).isEqualTo(BASE);
    }

    @Test
    void aSearchThatNeverClearsTheTakenPortsEndsAfterItsAttempts() {
        List<Integer> asked = new ArrayList<>();
        UnaryOperator<OrchestratorSpec> stuck = s -> {
            asked.add(s.port());
            return s.toBuilder().port(BASE).build(); // always the same, taken, base
        };
        OrchestratorSpec chosen = PortReservation.choose(spec(1).build(), Set.of(BASE), stuck);
        assertThat(asked).hasSize(PortReservation.ATTEMPTS + 1);
        assertThat(chosen.port()).isEqualTo(BASE);
    }
}
