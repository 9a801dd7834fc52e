package io.smartsim.launch.experiment;

import io.smartsim.launch.status.OrchestratorState;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.EntitySummary;
import io.smartsim.launch.manifest.Manifest;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.status.Status;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.spi.LaunchedShard;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The registry of an experiment's entities: unique names, what models see of the orchestrators, the summary. */
class EntitiesTest {
    private static final Path EXP = Path.of("/scratch/exp");

    /** An orchestrator of one shard on {@code port}; no launcher: nothing here starts, probes or stops it. */
    /** Entities over the handles themselves, as the facade's classes are in the root package (an ensemble: its name). */
    private static Entities<OrchestratorHandle, ModelHandle, String> entities() {
        return new Entities<>("demo", OrchestratorHandle::new, ModelHandle::new, (spec, members) -> spec.name());
    }

    private static OrchestratorHandle db(String id, int port, OrchestratorState state) {
        OrchestratorSpec spec = OrchestratorSpec.builder().id(id).instancesPerNode(1).port(port).auth(false).build();
        LaunchPlan plan = Planner.plan("demo", EXP, spec, new Placement(List.of(
                new Placement.Node("localhost", List.of("127.0.0.1")))));
        List<LaunchedShard> shards = state == OrchestratorState.RUNNING ? List.of(new LaunchedShard(0, id + "_0",
                "127.0.0.1", port, Optional.of(4000L + port), Optional.empty(), Map.of())) : List.of();
        return new OrchestratorHandle(plan, null, state, shards);
    }

    @Test
    void anIdTakenByARunningOrchestratorIsRefusedAndAStoppedOneMayBeReplaced() {
        Entities<OrchestratorHandle, ModelHandle, String> e = entities();
        e.put(db("db", 16780, OrchestratorState.RUNNING));
        e.put(db("old", 16790, OrchestratorState.STOPPED));
        assertThatThrownBy(() -> e.refuseOrchestrator("db")).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("already has an orchestrator 'db' running; give each orchestrator a distinct id");
        e.refuseOrchestrator("old");
        e.refuseOrchestrator("new");
    }

    @Test
    void modelsSeeTheRunningOrchestratorsThePrimaryFirst() {
        Entities<OrchestratorHandle, ModelHandle, String> e = entities();
        OrchestratorHandle a = db("a", 16780, OrchestratorState.RUNNING);
        OrchestratorHandle b = db("b", 16790, OrchestratorState.RUNNING);
        e.put(a);
        e.put(db("stopped", 16800, OrchestratorState.STOPPED));
        e.put(b);
        assertThat(e.dbEnv(Optional.empty())).containsExactly(Map.entry("SSDB", "127.0.0.1:16780"),
                Map.entry("SR_DB_TYPE", "Standalone"), Map.entry("SSDB_b", "127.0.0.1:16790"),
                Map.entry("SR_DB_TYPE_b", "Standalone"));
        assertThat(e.dbEnv(Optional.of(b))).containsExactly(Map.entry("SSDB", "127.0.0.1:16790"),
                Map.entry("SR_DB_TYPE", "Standalone"), Map.entry("SSDB_a", "127.0.0.1:16780"),
                Map.entry("SR_DB_TYPE_a", "Standalone"));
        assertThat(e.plannedDbEnv()).as("a dry run: every orchestrator at its planned address")
                .containsEntry("SSDB_stopped", "127.0.0.1:16800").hasSize(6);
    }

    @Test
    void theSummaryGivesEachOrchestratorItsPidsAndTheTimeItRan() {
        Entities<OrchestratorHandle, ModelHandle, String> e = entities();
        e.put(db("db", 16780, OrchestratorState.RUNNING));
        Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
        e.started("db", t0);
        e.ended("db", t0.plusSeconds(90));
        assertThat(e.summary()).singleElement().satisfies(row -> {
            assertThat(row).extracting(EntitySummary::name, EntitySummary::id, EntitySummary::status)
                    .containsExactly("db", Optional.of(Long.toString(4000L + 16780)), "RUNNING");
            assertThat(row.elapsed()).hasValue(java.time.Duration.ofSeconds(90));
        });
    }

    @Test
    void knownIdsAreThoseHereThenThoseOnlyRecorded() {
        Entities<OrchestratorHandle, ModelHandle, String> e = entities();
        assertThat(e.knownIds(Optional.empty())).isEqualTo("none");
        e.put(db("here", 16780, OrchestratorState.NEW));
        OrchestratorHandle there = db("there", 16790, OrchestratorState.STOPPED);
        Manifest recorded = new Manifest(Manifest.VERSION, "demo", List.of(
                record(db("here", 16780, OrchestratorState.STOPPED)), record(there)), List.of());
        assertThat(e.knownIds(Optional.of(recorded))).isEqualTo("here, there");
    }

    private static OrchestratorRecord record(OrchestratorHandle o) {
        return new OrchestratorRecord(o.id(), "local", Status.STOPPED, o.spec(), o.plan(), List.of(),
                Instant.parse("2026-01-01T00:00:00Z"), Optional.empty());
    }

    /**
     * Every launcher shipped here runs colocated databases; a plug-in that does not is refused naming those that do
     * (issue 17).
     */
    @Test
    void aColocatedDatabaseWithALauncherThatRunsNoneIsRefusedNamingTheLaunchersThatDo() {
        assertThat(Entities.colocatedRefusal("sim", "flux", List.of("slurm", "local", "pbs"))).isEqualTo("model 'sim' "
                + "asks for a colocated database, which the flux launcher does not run yet; use the local or pbs or "
                + "slurm launcher, or a separate orchestrator (orchestrators:) for now");
        assertThat(Entities.colocatedRefusal("sim", "flux", List.of())).contains("; use another launcher, or a "
                + "separate orchestrator");
    }

    /** A model launcher that takes {@code keys} as launcher options; it starts nothing. */
    private static io.smartsim.launch.spi.ModelLauncher launcherTaking(String name, java.util.Set<String> keys) {
        return new io.smartsim.launch.spi.ModelLauncher() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public java.util.Set<String> optionKeys() {
                return keys;
            }

            @Override
            public void validate(io.smartsim.launch.planned.ModelPlan plan) {
            }

            @Override
            public io.smartsim.launch.spi.RenderedLaunch render(io.smartsim.launch.planned.ModelPlan plan,
                                                                Map<String, String> dbEnv) {
                throw new UnsupportedOperationException();
            }

            @Override
            public io.smartsim.launch.spi.LaunchedModel start(io.smartsim.launch.planned.ModelPlan plan,
                                                             Map<String, String> dbEnv) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Map<String, io.smartsim.launch.spi.ModelState> poll(
                    List<io.smartsim.launch.spi.LaunchedModel> models) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void stop(List<io.smartsim.launch.spi.LaunchedModel> models, java.time.Duration grace) {
                throw new UnsupportedOperationException();
            }
        };
    }

    @Test
    void launcherOptionsAModelsLauncherDoesNotTakeAreRefusedNamingTheOnesItDoes() {
        io.smartsim.launch.planned.ModelPlan plan = io.smartsim.launch.entity.ModelPlanner.plan(EXP,
                io.smartsim.launch.spec.ModelSpec.builder("sim", "/bin/true").launcherOption("hosts", "n1")
                        .launcherOption("partition", "debug").build());
        assertThat(plan.launcherOptions()).containsExactly(Map.entry("hosts", "n1"), Map.entry("partition", "debug"));
        assertThatThrownBy(() -> Entities.refuseOptions(launcherTaking("local", java.util.Set.of()), plan))
                .isInstanceOf(InvalidSpecException.class)
                .satisfies(e -> assertThat(((InvalidSpecException) e).field()).isEqualTo("launcherOptions"))
                .hasMessage("launcherOptions: model 'sim': the local launcher's models do not take [hosts, partition]; "
                        + "they take no launcher options: remove them");
        assertThatThrownBy(() -> Entities.refuseOptions(launcherTaking("ssh", java.util.Set.of("hosts", "identity")),
                plan)).isInstanceOf(InvalidSpecException.class)
                .hasMessageEndingWith("the ssh launcher's models do not take [partition]; they take [hosts, identity]");
        Entities.refuseOptions(launcherTaking("any", java.util.Set.of("hosts", "partition")), plan);
    }
}
