package io.smartsim.launch.cli;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import io.smartsim.launch.dashboard.Dashboard;
import io.smartsim.launch.dashboard.DashboardCrossingFixture;
import io.smartsim.launch.local.LauncherCrossingFixture;
import io.smartsim.launch.testing.Architecture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CLI uses the API and the SPI only (and the client applications of {@link Architecture#APPS}: the dashboard), the
 * dashboard uses core through the API and the SPI but for what it lists, and the launchers use core through the SPI
 * and its building blocks (docs/architecture.md, "The API boundary"), checked on the bytecode of the CLI, the dashboard
 * and the launchers on its class path; and, on fixture classes that cross the line on purpose, that the rules fail
 * when crossed.
 */
class ArchitectureTest {
    /**
     * What the CLI still uses inside core, each with why: the rule is complete but for these classes, so any other
     * crossing fails. Empty since the facade returns what doctor, db plan, db status and dashboard show (issue 15,
     * point 4); a class put here must say why the API cannot offer it yet.
     */
    static final Map<String, String> STILL_INTERNAL = Map.of();

    /**
     * What the dashboard (the {@code telemetry} module, package {@code io.smartsim.launch.dashboard}) uses inside core,
     * each with why. It reads the experiment directory itself, beside the statuses the facade gives it, and runs a
     * collector of its own for its charts: these are what the API would have to offer for the list to go.
     */
    static final Map<String, String> DASHBOARD_INTERNAL = new TreeMap<>(Map.ofEntries(
            Map.entry("io.smartsim.launch.manifest.Manifest", "reads the manifest: the recorded orchestrators and "
                    + "models it shows beside their statuses"),
            Map.entry("io.smartsim.launch.manifest.ManifestStore", "reads the manifest"),
            Map.entry("io.smartsim.launch.manifest.ModelRecord", "a recorded model: its plan, status, log and node"),
            Map.entry("io.smartsim.launch.manifest.OrchestratorRecord", "a recorded orchestrator: its plan, shards "
                    + "and events"),
            Map.entry("io.smartsim.launch.colocated.ColocatedStatus", "checks the models' colocated databases off its "
                    + "refresh thread (ColocatedChecks), file by file as their wrapper writes them"),
            Map.entry("io.smartsim.launch.util.LogTail", "the tail of a shard's, model's or colocated database's log"),
            Map.entry("io.smartsim.launch.telemetry.Telemetry", "its own in-memory collector, for the live charts and "
                    + "/metrics"),
            Map.entry("io.smartsim.launch.telemetry.TelemetryFiles", "the recorded samples, for the charts' history"),
            Map.entry("io.smartsim.launch.telemetry.TelemetryOptions", "its collector's interval")));

    static final String DASHBOARD = Architecture.ROOT + ".dashboard";

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = Architecture.production();
        assertThat(classes.contain(Main.class)).as("the CLI's classes").isTrue();
        assertThat(classes.contain(Dashboard.class)).as("the dashboard's classes").isTrue();
        for (String launcher : Architecture.LAUNCHERS) {
            assertThat(classes.stream().anyMatch(c -> c.getPackageName().equals(launcher)))
                    .as("the launcher classes of %s on the class path", launcher).isTrue();
        }
    }

    @Test
    void theCliUsesTheApiAndTheSpiOnly() {
        Architecture.cliUsesApiAndSpi(STILL_INTERNAL).check(classes);
    }

    @Test
    void theDashboardUsesTheApiAndTheSpiAndWhatItLists() {
        Architecture.appUsesApiAndSpi(DASHBOARD, DASHBOARD_INTERNAL).check(classes);
    }

    @Test
    void everyClassStillAllowedIsStillUsed() {
        assertThat(Architecture.allowedButUnused(classes, Architecture.ROOT + ".cli", STILL_INTERNAL))
                .as("classes of STILL_INTERNAL the CLI no longer uses: take them off").isEmpty();
        assertThat(Architecture.allowedButUnused(classes, DASHBOARD, DASHBOARD_INTERNAL))
                .as("classes of DASHBOARD_INTERNAL the dashboard no longer uses: take them off").isEmpty();
    }

    @Test
    void aClassAllowedButNoLongerUsedIsNamed() {
        // what the check above would say of a list naming a class the CLI does not use (and of one it does use)
        assertThat(Architecture.allowedButUnused(classes, Architecture.ROOT + ".cli", Map.of(
                "io.smartsim.launch.manifest.ManifestStore", "not used by the CLI",
                "io.smartsim.launch.Experiment", "used by the CLI"))).containsExactly(
                "io.smartsim.launch.manifest.ManifestStore");
    }

    @Test
    void launchersUseCoreThroughTheSpiAndItsBuildingBlocks() {
        for (String launcher : Architecture.LAUNCHERS) {
            Architecture.launcherUsesSpiAndPluginPackages(launcher).check(classes);
        }
    }

    @Test
    void aCliClassUsingAnInternalFails() {
        assertThat(violations(Architecture.cliUsesApiAndSpi(STILL_INTERNAL), CliCrossingFixture.class))
                .contains(CliCrossingFixture.class.getName()).contains("io.smartsim.launch.experiment.Recorder");
    }

    @Test
    void aDashboardClassUsingAnInternalItDoesNotListFails() {
        assertThat(violations(Architecture.appUsesApiAndSpi(DASHBOARD, DASHBOARD_INTERNAL),
                DashboardCrossingFixture.class))
                .contains(DashboardCrossingFixture.class.getName()).contains("io.smartsim.launch.experiment.Recorder");
    }

    @Test
    void aLauncherUsingTheManifestFails() {
        assertThat(violations(Architecture.launcherUsesSpiAndPluginPackages("io.smartsim.launch.local"),
                LauncherCrossingFixture.class))
                .contains(LauncherCrossingFixture.class.getName()).contains("io.smartsim.launch.manifest.ManifestStore");
    }

    private static String violations(ArchRule rule, Class<?> fixture) {
        EvaluationResult r = rule.evaluate(Architecture.productionAnd(fixture));
        assertThat(r.hasViolation()).as(rule.getDescription() + " fails with " + fixture.getSimpleName()).isTrue();
        return String.join("\n", r.getFailureReport().getDetails());
    }
}
