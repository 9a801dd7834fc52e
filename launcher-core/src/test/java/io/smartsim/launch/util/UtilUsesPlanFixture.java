package io.smartsim.launch.util;

import io.smartsim.launch.plan.PlanFiles;
import io.smartsim.launch.planned.ShardPlan;

import java.nio.file.Path;

/** A test fixture for ArchitectureTest: util using plan, while plan uses util (PlanFiles uses util.PreviousRun). */
public final class UtilUsesPlanFixture {
    private UtilUsesPlanFixture() {
    }

    public static Path console(ShardPlan shard) {
        return PlanFiles.consoleLog(shard);
    }
}
