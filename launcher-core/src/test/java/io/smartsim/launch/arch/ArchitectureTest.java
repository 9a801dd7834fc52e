package io.smartsim.launch.arch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import io.smartsim.launch.InternalInRootFixture;
import io.smartsim.launch.spec.SpecUsesFacadeFixture;
import io.smartsim.launch.status.StatusUsesManifestFixture;
import io.smartsim.launch.testing.Architecture;
import io.smartsim.launch.util.UtilUsesPlanFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Core's package layering and API boundary (docs/architecture.md, "The API boundary"), checked on core's bytecode;
 * and, on fixture classes (test classes that cross the line on purpose), that each rule fails when it is crossed.
 */
class ArchitectureTest {
    private static JavaClasses core;

    @BeforeAll
    static void importCore() {
        core = Architecture.production();
        assertThat(core.contain("io.smartsim.launch.Experiment")).as("core's classes are on the class path").isTrue();
    }

    @Test
    void corePackagesAreFreeOfCyclesRootIncluded() {
        Architecture.coreFreeOfCycles().check(core);
    }

    @Test
    void theRootHoldsOnlyTheApi() {
        Architecture.rootHoldsOnlyApi().check(core);
    }

    @Test
    void specsAndExceptionsDependOnNothingInternal() {
        Architecture.leafApiDependsOnNothingInternal().check(core);
    }

    @Test
    void apiValuesUseNoInternal() {
        Architecture.apiUsesNoInternal().check(core);
    }

    @Test
    void anApiValueUsingAnInternalFails() {
        assertThat(violations(Architecture.apiUsesNoInternal(), StatusUsesManifestFixture.class))
                .contains(StatusUsesManifestFixture.class.getName()).contains("io.smartsim.launch.manifest.ManifestStore");
    }

    @Test
    void aCycleBetweenTwoSubpackagesFails() {
        // util -> plan (the fixture) closes util <- plan (PlanFiles uses util.PreviousRun)
        assertThat(violations(Architecture.coreFreeOfCycles(), UtilUsesPlanFixture.class))
                .contains("util").contains("plan");
    }

    @Test
    void aCycleThroughTheRootFails() {
        // spec -> root (the fixture uses Experiment) closes root -> spec: the root is a slice like any other
        assertThat(violations(Architecture.coreFreeOfCycles(), SpecUsesFacadeFixture.class))
                .contains("root").contains("spec");
        assertThat(violations(Architecture.leafApiDependsOnNothingInternal(), SpecUsesFacadeFixture.class))
                .contains(SpecUsesFacadeFixture.class.getName());
    }

    @Test
    void anInternalClassInTheRootFails() {
        assertThat(violations(Architecture.rootHoldsOnlyApi(), InternalInRootFixture.class))
                .contains(InternalInRootFixture.class.getName() + " is not a public API class of the root");
    }

    /** The failure report of {@code rule} on core plus {@code fixture}; fails the test when there is none. */
    static String violations(ArchRule rule, Class<?> fixture) {
        EvaluationResult r = rule.evaluate(Architecture.productionAnd(fixture));
        assertThat(r.hasViolation()).as(rule.getDescription() + " fails with " + fixture.getSimpleName()).isTrue();
        return String.join("\n", r.getFailureReport().getDetails());
    }
}
