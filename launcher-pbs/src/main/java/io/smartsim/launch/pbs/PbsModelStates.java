package io.smartsim.launch.pbs;

import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.spi.ModelState;
import io.smartsim.launch.pbs.PbsParsers.Job;

import java.util.List;
import java.util.Optional;

/**
 * Pure: a batch model's status from what {@code qstat -f} shows for its job (either dialect) and the exit code its
 * script wrote beside it ({@link PbsModelScripts#exitPath}), which stands in where PBS reports none: Slurm's qsub
 * wrapper has no {@code exit_status}, and OpenPBS forgets finished jobs unless it keeps history.
 */
public final class PbsModelStates {
    private PbsModelStates() {
    }

    /**
     * A job qstat still lists. Q, H, W, T, M: QUEUED with PBS's words ("queued (Not Running: ...)"); R, B, E, S, U:
     * RUNNING (E is exiting: its exit status is not final yet); F, X, C: ended, as {@link #ended}.
     *
     * @param exitFile  the code the job's script wrote, if it wrote one
     * @param cancelled whether this launcher deleted the job (qdel)
     */
    public static ModelState fromJob(Job job, Optional<Integer> exitFile, boolean cancelled) {
        if (job.waiting()) {
            return new ModelState(EntityStatus.QUEUED, Optional.empty(), Optional.of(job.describe()));
        }
        if (!job.finished()) {
            return ModelState.of(EntityStatus.RUNNING);
        }
        return ended("job " + job.id() + " " + job.describe(), job.exitStatus().or(() -> exitFile), cancelled);
    }

    /**
     * The nodes a job runs (or ran) on: the distinct hosts of its {@code exec_host}, comma-separated in order
     * ({@code n1/0+n2/0} -> {@code n1,n2}; PBS has no compressed form); empty before it runs (no {@code exec_host})
     * or when a name in it is not a host name.
     */
    public static Optional<String> node(Job job) {
        try {
            List<String> hosts = PbsParsers.execHosts(job.execHost());
            return hosts.isEmpty() ? Optional.empty() : Optional.of(String.join(",", hosts));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** A job qstat no longer lists (finished and forgotten): its exit file is all there is. */
    public static ModelState gone(String jobId, Optional<Integer> exitFile, boolean cancelled) {
        return ended("PBS no longer lists job " + jobId, exitFile, cancelled);
    }

    /**
     * An ended job with PBS's exit status (or the exit file's code). 0 is COMPLETED; above 256 PBS means killed by
     * signal (status - 256), reported as 128 + signal as a shell does; -29 is walltime exceeded; other negative
     * codes are PBS's own (the job could not run); no code at all is FAILED, never taken for success.
     */
    static ModelState ended(String what, Optional<Integer> status, boolean cancelled) {
        Optional<Integer> code = status.map(s -> s > 256 ? 128 + s - 256 : s);
        if (cancelled) {
            return new ModelState(EntityStatus.CANCELLED, code, Optional.of("stopped on request (qdel)"));
        }
        if (status.isEmpty()) {
            return new ModelState(EntityStatus.FAILED, Optional.empty(), Optional.of(what + ", and it reports no exit "
                    + "status and its script wrote none: it ended before the model did (qdel by someone else, "
                    + "walltime, node failure)"));
        }
        int s = status.get();
        if (s == 0) {
            return new ModelState(EntityStatus.COMPLETED, Optional.of(0), Optional.empty());
        }
        String meaning = PbsParsers.exitMeaning(s);
        return new ModelState(EntityStatus.FAILED, code, meaning.isEmpty() ? Optional.empty()
                : Optional.of("exit status " + s + meaning));
    }

    /** The exit file's text: one integer; empty for anything else (not written yet, or half written). */
    public static Optional<Integer> exitFile(String text) {
        String t = text.strip();
        return t.matches("-?[0-9]{1,9}") ? Optional.of(Integer.valueOf(t)) : Optional.empty();
    }
}
