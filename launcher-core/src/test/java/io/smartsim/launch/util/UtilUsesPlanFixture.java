package io.smartsim.launch.util;

import io.smartsim.launch.plan.LaunchPlan;

/** A test fixture for ArchitectureTest: util using plan, while plan uses util (the cycle EphemeralPorts made). */
public final class UtilUsesPlanFixture {
    private UtilUsesPlanFixture() {
    }

    public static int shards(LaunchPlan plan) {
        return plan.shards().size();
    }
}
