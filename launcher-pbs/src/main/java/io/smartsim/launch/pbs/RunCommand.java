package io.smartsim.launch.pbs;

import java.util.List;
import java.util.Optional;

/**
 * What starts a shard on one node of a PBS job. {@code pbsdsh} and {@code mpiexec} start it as a task of the job
 * (PBS's MoM tracks it and {@code qdel} ends it); {@code ssh} starts it outside the job, so the launcher stops it
 * itself.
 */
public enum RunCommand {
    PBSDSH("pbsdsh"), MPIEXEC("mpiexec"), SSH("ssh");

    /** The order {@code auto} tries them in: the job's own task launcher first, ssh last. */
    public static final List<RunCommand> AUTO_ORDER = List.of(PBSDSH, MPIEXEC, SSH);

    private final String binary;

    RunCommand(String binary) {
        this.binary = binary;
    }

    /** The executable's name, which is also the option value. */
    public String binary() {
        return binary;
    }

    /** Whether the job's scheduler tracks the started process (so {@code qdel} ends it). */
    public boolean taskOfTheJob() {
        return this != SSH;
    }

    public static Optional<RunCommand> fromOption(String value) {
        for (RunCommand r : values()) {
            if (r.binary.equals(value)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }
}
