package io.smartsim.launch.cli;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import io.smartsim.launch.local.LauncherCrossingFixture;
import io.smartsim.launch.testing.Architecture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CLI uses the API and the SPI only, and the launchers use core through the SPI and its building blocks
 * (docs/architecture.md, "The API boundary"), checked on the bytecode of the CLI and of the launchers on its class
 * path; and, on fixture classes that cross the line on purpose, that both rules fail when crossed.
 */
class ArchitectureTest {
    /**
     * What the CLI still uses inside core, each with why: the rule is complete but for these classes, so any other
     * crossing fails. Shrink it by making the API return API values (docs/architecture.md, "The API boundary", says
     * what is left and how).
     */
    static final Map<String, String> STILL_INTERNAL = new TreeMap<>(Map.ofEntries(
            Map.entry("io.smartsim.launch.plan.AiInstall", "doctor checks the AI install"),
            Map.entry("io.smartsim.launch.plan.AiPlanner", "db plan and doctor show the model-server plan"),
            Map.entry("io.smartsim.launch.telemetry.Dashboard", "the dashboard command serves the telemetry module's "
                    + "dashboard"),
            Map.entry("io.smartsim.launch.telemetry.HttpAccess", "the dashboard command (telemetry module)"),
            Map.entry("io.smartsim.launch.telemetry.MetricsServer", "the dashboard command (telemetry module)"),
            Map.entry("io.smartsim.launch.telemetry.ShardSample", "db status shows the last telemetry samples"),
            Map.entry("io.smartsim.launch.telemetry.TelemetryFiles", "db status reads the telemetry files"),
            Map.entry("io.smartsim.launch.telemetry.TelemetryOptions", "the dashboard command's options"),
            Map.entry("io.smartsim.launch.util.Executables", "doctor finds the binaries on PATH")));

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = Architecture.production();
        assertThat(classes.contain(Main.class)).as("the CLI's classes").isTrue();
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
    void everyClassStillAllowedIsStillUsed() {
        Set<String> used = classes.stream().filter(c -> c.getPackageName().startsWith(Architecture.ROOT + ".cli"))
                .flatMap(c -> c.getDirectDependenciesFromSelf().stream())
                .map(d -> d.getTargetClass().getName())
                .map(n -> n.contains("$") ? n.substring(0, n.indexOf('$')) : n)
                .collect(Collectors.toSet());
        assertThat(STILL_INTERNAL.keySet()).as("classes of STILL_INTERNAL the CLI no longer uses: take them off")
                .allMatch(used::contains);
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
