package io.smartsim.launch.spi;

import java.util.Optional;

/**
 * What a launcher knows about a model now.
 *
 * @param status   its status
 * @param exitCode its exit code, once it has exited and the launcher knows it
 * @param detail   why, for FAILED or CANCELLED ("killed by signal 9", "could not start: ...")
 */
public record ModelState(EntityStatus status, Optional<Integer> exitCode, Optional<String> detail) {
    public ModelState {
        exitCode = exitCode == null ? Optional.empty() : exitCode;
        detail = detail == null ? Optional.empty() : detail;
    }

    public static ModelState of(EntityStatus status) {
        return new ModelState(status, Optional.empty(), Optional.empty());
    }
}
