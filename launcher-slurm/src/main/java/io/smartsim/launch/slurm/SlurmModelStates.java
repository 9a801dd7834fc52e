package io.smartsim.launch.slurm;

import io.smartsim.launch.entity.EntityStatus;
import io.smartsim.launch.entity.ModelState;
import io.smartsim.launch.slurm.SlurmParsers.Accounting;
import io.smartsim.launch.slurm.SlurmParsers.Job;

import java.util.Optional;

/** Pure: a model's status from what squeue and sacct print for its job or step. */
public final class SlurmModelStates {
    private SlurmModelStates() {
    }

    /** A job squeue still lists: QUEUED while pending, RUNNING while it runs; empty once it has ended. */
    public static Optional<ModelState> fromQueue(Job job) {
        if (job.pending()) {
            return Optional.of(new ModelState(EntityStatus.QUEUED, Optional.empty(),
                    Optional.of("pending: " + job.reason())));
        }
        if (!job.finished()) {
            return Optional.of(ModelState.of(EntityStatus.RUNNING));
        }
        return Optional.empty(); // its exit code is in sacct
    }

    /**
     * A job or step as sacct records it. {@code ExitCode} is {@code code:signal}; a task killed by a signal reports
     * 128 + the signal, as a shell does. States: PENDING, RUNNING, COMPLETED, CANCELLED (sacct may add
     * "by UID"), and the failures FAILED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, BOOT_FAIL, DEADLINE, PREEMPTED.
     */
    public static ModelState fromAccounting(Accounting a) {
        String state = a.state().split(" ", 2)[0].replace("+", "");
        Optional<Integer> code = exitCode(a.exitCode());
        return switch (state) {
            case "PENDING", "REQUEUED" -> ModelState.of(EntityStatus.QUEUED);
            case "RUNNING", "COMPLETING", "SUSPENDED" -> ModelState.of(EntityStatus.RUNNING);
            case "COMPLETED" -> code.orElse(0) == 0
                    ? new ModelState(EntityStatus.COMPLETED, Optional.of(0), Optional.empty())
                    : new ModelState(EntityStatus.FAILED, code, Optional.empty());
            case "CANCELLED" -> new ModelState(EntityStatus.CANCELLED, code, Optional.of("cancelled ("
                    + a.state() + ")"));
            case "FAILED" -> new ModelState(EntityStatus.FAILED, code, signal(a.exitCode()));
            case "TIMEOUT" -> new ModelState(EntityStatus.FAILED, code, Optional.of("walltime exceeded (TIMEOUT)"));
            case "OUT_OF_MEMORY" -> new ModelState(EntityStatus.FAILED, code, Optional.of("out of memory"));
            default -> new ModelState(EntityStatus.FAILED, code, Optional.of("Slurm state " + a.state()));
        };
    }

    /** {@code 2:0} -> 2, {@code 0:9} -> 137 (killed by signal 9); empty when sacct printed nothing usable. */
    public static Optional<Integer> exitCode(String codeAndSignal) {
        String[] p = codeAndSignal.strip().split(":", 2);
        try {
            int code = Integer.parseInt(p[0]);
            int sig = p.length > 1 ? Integer.parseInt(p[1]) : 0;
            return Optional.of(code == 0 && sig > 0 ? 128 + sig : code);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> signal(String codeAndSignal) {
        String[] p = codeAndSignal.strip().split(":", 2);
        return p.length > 1 && !p[1].equals("0") ? Optional.of("killed by signal " + p[1]) : Optional.empty();
    }
}
