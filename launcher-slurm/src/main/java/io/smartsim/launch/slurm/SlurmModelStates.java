package io.smartsim.launch.slurm;

import io.smartsim.launch.batch.BatchModels;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.spi.ModelState;
import io.smartsim.launch.slurm.SlurmParsers.Accounting;
import io.smartsim.launch.slurm.SlurmParsers.Job;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/** Pure: a model's status from what squeue and sacct print for its job or step, and from its batch script's exit file. */
public final class SlurmModelStates {
    /** How a model this launcher cancelled is described. */
    static final String STOPPED = "stopped on request (scancel)";
    /** End states in which Slurm killed the batch script itself, so it wrote no exit code. */
    private static final Set<String> SCRIPT_KILLED = Set.of("CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
            "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY");

    private SlurmModelStates() {
    }

    /**
     * The node(s) a job or step runs on, as squeue's {@code %N} or sacct's {@code NodeList} wrote them (several in
     * Slurm's compressed form, {@code n[1-3]}, kept as it is); empty when there are none yet: squeue prints nothing
     * for a pending job, sacct {@code None assigned}.
     */
    public static Optional<String> node(String nodeList) {
        String n = nodeList == null ? "" : nodeList.strip();
        return n.isEmpty() || n.equals("None assigned") || n.equals("(null)") ? Optional.empty() : Optional.of(n);
    }

    /**
     * The node(s) of a job squeue lists ({@link #node(String)} of its {@code %N}); empty while it is COMPLETING, when
     * squeue lists only the nodes not yet given back, not all it ran on.
     */
    public static Optional<String> node(Job job) {
        return job.state().equals("COMPLETING") ? Optional.empty() : node(job.nodeList());
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
        return Optional.empty(); // its exit code: see leftQueue
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

    /**
     * A batch job that has left the queue (squeue lists it no more, or lists it ended), from what there is, in this
     * order: the exit code its script wrote ({@link SlurmModelScripts#exitPath}), which needs no accounting; sacct's
     * record of the job once it has ended; a job this launcher cancelled is CANCELLED; the end state squeue still
     * shows for a while (MinJobAge) when it is one that kills the script before it writes a code (cancelled by
     * someone else, walltime, node failure, ...), without a code. With none of them, nothing is known yet (empty: a
     * file on a shared file system and slurmdbd can both lag the queue by a moment) until {@code wait} has passed
     * since the job was first seen gone; then FAILED, saying that the job reported no exit status: never a model
     * left RUNNING for good.
     *
     * @param jobId      the job
     * @param exitFile   the code the script wrote, if it wrote one
     * @param accounting sacct's record of the job, if sacct has one
     * @param queueState the end state squeue last showed for the job, if it showed one
     * @param cancelled  whether this launcher cancelled the job (scancel)
     * @param goneFor    how long ago the job was first seen gone from the queue
     * @param wait       how long to wait for a code after that
     * @param unknown    what was looked at and said nothing, for the message: the exit file and sacct's answer
     */
    public static Optional<ModelState> leftQueue(String jobId, Optional<Integer> exitFile,
                                                 Optional<Accounting> accounting, Optional<String> queueState,
                                                 boolean cancelled, Duration goneFor, Duration wait, String unknown) {
        if (exitFile.isPresent()) {
            return Optional.of(BatchModels.ended(cancelled, exitFile.get(), STOPPED));
        }
        Optional<ModelState> recorded = accounting.map(SlurmModelStates::fromAccounting);
        if (recorded.isPresent() && recorded.get().status().terminal()) {
            return recorded; // a record still RUNNING is sacct behind the queue: as no record
        }
        if (cancelled) {
            return Optional.of(new ModelState(EntityStatus.CANCELLED, Optional.empty(), Optional.of(STOPPED)));
        }
        String said = queueState.map(q -> q.split(" ", 2)[0]).orElse("");
        if (SCRIPT_KILLED.contains(said)) {
            ModelState s = fromAccounting(new Accounting(jobId, "", said, "", ""));
            return Optional.of(new ModelState(s.status(), Optional.empty(), Optional.of("job " + jobId + " ended "
                    + said + " (squeue) before its model's step did, so there is no exit code: " + unknown)));
        }
        if (goneFor.compareTo(wait) < 0) {
            return Optional.empty();
        }
        return Optional.of(new ModelState(EntityStatus.FAILED, Optional.empty(), Optional.of("job " + jobId
                + " left the queue and reported no exit status: " + unknown + queueState.map(q -> "; squeue last "
                + "showed it " + q).orElse("") + ", " + wait.toSeconds() + " s after it left. Its script writes one "
                + "when the model's step ends, so the job ended before that (scancel by someone else, walltime, node "
                + "failure): see `scontrol show job " + jobId + "` (kept MinJobAge seconds after the end) and the "
                + "model's .err file")));
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

    /** The exit file's text: one integer and a newline; empty for anything else (not written, or not yet). */
    public static Optional<Integer> exitFile(String text) {
        String t = text.strip();
        return t.matches("-?[0-9]{1,9}") ? Optional.of(Integer.valueOf(t)) : Optional.empty();
    }

    private static Optional<String> signal(String codeAndSignal) {
        String[] p = codeAndSignal.strip().split(":", 2);
        return p.length > 1 && !p[1].equals("0") ? Optional.of("killed by signal " + p[1]) : Optional.empty();
    }
}
