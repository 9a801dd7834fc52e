package io.smartsim.launch.spec;

import io.smartsim.launch.Experiment;

/** A test fixture for ArchitectureTest: a spec that uses the facade, closing a cycle through the root. */
public final class SpecUsesFacadeFixture {
    private SpecUsesFacadeFixture() {
    }

    public static String name(Experiment exp) {
        return exp.name();
    }
}
