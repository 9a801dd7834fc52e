package io.smartsim.launch.manifest;

import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.spi.LaunchedModel;

import java.time.Instant;
import java.util.Optional;

/**
 * One started model (or ensemble member) as the manifest records it, so that another process can see it, poll it
 * through its launcher and stop it.
 *
 * @param plan     the plan it was started from
 * @param launched where it runs: the launcher's ids (pid, job, step)
 * @param status   its last known status
 * @param exitCode its exit code, once known
 * @param detail   why it failed or was cancelled, when known
 * @param updated  when this entry was written
 */
public record ModelRecord(ModelPlan plan, LaunchedModel launched, EntityStatus status, Optional<Integer> exitCode,
                          Optional<String> detail, Instant updated) {
    public ModelRecord {
        exitCode = exitCode == null ? Optional.empty() : exitCode;
        detail = detail == null ? Optional.empty() : detail;
    }

    public String name() {
        return plan.name();
    }
}
