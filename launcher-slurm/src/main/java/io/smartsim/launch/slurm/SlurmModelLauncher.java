package io.smartsim.launch.slurm;

import io.smartsim.launch.batch.BatchModels;
import io.smartsim.launch.batch.BatchStart;
import io.smartsim.launch.colocated.ColocatedPlanner;
import io.smartsim.launch.colocated.ColocatedStatus;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.spi.ModelState;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.slurm.SlurmParsers.Accounting;
import io.smartsim.launch.slurm.SlurmParsers.Job;
import io.smartsim.launch.slurm.SlurmParsers.Step;
import io.smartsim.launch.spi.LaunchedModel;
import io.smartsim.launch.spi.ModelLauncher;
import io.smartsim.launch.spi.RenderedLaunch;
import io.smartsim.launch.util.Backoff;
import io.smartsim.launch.util.Deadline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs models with Slurm: each one an srun step inside an allocation ({@code run.alloc}, else {@code SLURM_JOB_ID}),
 * or, with {@code run.batch}, a batch job of its own whose one step runs every task. A step's srun is a child of
 * this JVM with its stdout and stderr going to the model's files; a batch job's output goes there through
 * {@code sbatch --output/--error}. Status comes from the srun process for steps started here, and for the rest from
 * one {@code squeue} for all of them; once a job or step has left the queue, a batch job's from the exit code its
 * script wrote beside the model's output (no accounting needed), else from one {@code sacct}. Stop is one
 * {@code scancel} of every step and job. Scheduler commands go through the {@link CommandRunner} it is given.
 */
public final class SlurmModelLauncher implements ModelLauncher {
    /** Handle keys recorded for each model. */
    public static final String JOB = BatchStart.JOB;
    public static final String STEP = "stepId";
    public static final String MODE = BatchStart.MODE;
    public static final String MODE_ALLOC = BatchStart.MODE_ALLOC;
    public static final String MODE_BATCH = BatchStart.MODE_BATCH;
    /** Where a batch model's script writes its exit code ({@link SlurmModelScripts#exitPath}). */
    public static final String EXIT_FILE = "exitFile";
    /**
     * The node(s) the model runs on, as squeue's {@code %N} and sacct's {@code NodeList} write them (several in
     * Slurm's compressed form, {@code n[1-3]}): a step's from the start, once its step id is found; a batch job's
     * once it runs, through {@link ModelState#node} from {@link #poll}.
     */
    public static final String NODE = LaunchedModel.NODE;

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    /** How long start looks for the step id of a new srun; a step waiting for free CPUs may take longer. */
    private static final Duration STEP_LOOKUP = Duration.ofSeconds(10);
    private static final Duration CANCEL_WAIT = Duration.ofSeconds(15);
    /**
     * How long a batch job may have left the queue with neither an exit file nor an ended sacct record before its
     * model is FAILED for want of an exit status: the file, written on a compute node, can take a while to show on a
     * shared file system here (NFS caches a directory's entries up to 60 s by default), and slurmdbd lags the queue.
     */
    static final Duration NO_STATUS_WAIT = Duration.ofSeconds(60);

    private final CommandRunner runner;
    private final Map<String, String> env;
    private final Map<String, Process> sruns = new ConcurrentHashMap<>();
    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
    private final Set<String> claimedSteps = ConcurrentHashMap.newKeySet();
    /** When each batch model's job (model name -> System.nanoTime()) was first seen gone from the queue. */
    private final Map<String, Long> goneSince = new ConcurrentHashMap<>();
    /** The colocated databases of the models started here, by model name: why one failed, if its database did. */
    private final Map<String, ColocatedPlan> colocated = new ConcurrentHashMap<>();

    /** Runs scheduler commands on this machine and reads {@code SLURM_JOB_ID} from this process's environment. */
    public SlurmModelLauncher() {
        this(new LocalCommandRunner(), System.getenv());
    }

    /** @param runner where scheduler commands run; @param env the environment to find {@code SLURM_JOB_ID} in */
    public SlurmModelLauncher(CommandRunner runner, Map<String, String> env) {
        this.runner = runner;
        this.env = Map.copyOf(env);
    }

    @Override
    public String name() {
        return SlurmLauncher.NAME;
    }

    /**
     * Each rank of the step (in an allocation or in the model's batch job) runs through the colocated wrapper
     * (docs/colocated.md): the first rank on a node starts its database, the others wait for it, and it stops once
     * the last rank of its node has ended. The wrapper and its locks live in the model's directory, which the nodes
     * must share (or have at the same path), and it names a node's files with {@code hostname -s}.
     */
    @Override
    public boolean runsColocatedDatabases() {
        return true;
    }

    /**
     * Refuses run-command arguments that repeat a run setting, and a step with no allocation to run in. The
     * executable is not looked for here: it must exist on the compute nodes, which this machine may not see.
     */
    @Override
    public void validate(ModelPlan plan) {
        SlurmModelScripts.conflict(plan.run().runArgs()).ifPresent(problem -> {
            throw new InvalidSpecException("run.runArgs", "model '" + plan.name() + "': " + problem);
        });
        if (plan.run().batch().isEmpty()) {
            allocation(plan);
        }
    }

    private String allocation(ModelPlan plan) {
        return BatchModels.allocation(plan, env, "SLURM_JOB_ID", "as a step of an allocation", "run inside salloc or "
                + "sbatch");
    }

    @Override
    public RenderedLaunch render(ModelPlan plan, Map<String, String> dbEnv) {
        Map<String, String> environment = BatchModels.environment(plan, dbEnv);
        Map<String, String> scripts = new LinkedHashMap<>();
        plan.colocated().ifPresent(c -> scripts.putAll(ColocatedPlanner.files(c)));
        if (plan.run().batch().isPresent()) {
            scripts.put(SlurmModelScripts.batchPath(plan).toString(), SlurmModelScripts.batch(plan, environment));
            return new RenderedLaunch(SlurmModelScripts.sbatch(plan), environment, scripts);
        }
        return new RenderedLaunch(SlurmModelScripts.srun(allocation(plan), plan), environment, scripts);
    }

    @Override
    public LaunchedModel start(ModelPlan plan, Map<String, String> dbEnv) {
        plan.colocated().ifPresentOrElse(c -> colocated.put(plan.name(), c), () -> colocated.remove(plan.name()));
        return plan.run().batch().isPresent() ? submit(plan, dbEnv) : step(plan, dbEnv);
    }

    private LaunchedModel submit(ModelPlan plan, Map<String, String> dbEnv) {
        BatchModels.writeOwnerOnly(plan, SlurmModelScripts.batchPath(plan), SlurmModelScripts.batch(plan,
                BatchModels.environment(plan, dbEnv)), "batch script");
        Path exitFile = SlurmModelScripts.exitPath(plan);
        try {
            Files.deleteIfExists(exitFile); // an earlier run's code must not be taken for this one's
        } catch (IOException e) {
            throw new LaunchException("cannot remove " + exitFile + " from an earlier run of model '" + plan.name()
                    + "': " + e.getMessage(), e);
        }
        CommandResult r = runner.run(SlurmModelScripts.sbatch(plan), COMMAND_TIMEOUT);
        if (!r.ok()) {
            throw new LaunchException("sbatch rejected the batch job of model '" + plan.name() + "': " + r.describe());
        }
        String jobId = SlurmParsers.parsableJobId(r.stdout());
        goneSince.remove(plan.name());
        return new LaunchedModel(plan.name(), name(), jobId, Optional.empty(), Instant.now(),
                Map.of(JOB, jobId, MODE, MODE_BATCH, EXIT_FILE, exitFile.toString()));
    }

    private LaunchedModel step(ModelPlan plan, Map<String, String> dbEnv) {
        String jobId = allocation(plan);
        List<String> argv = SlurmModelScripts.srun(jobId, plan);
        Process p = BatchModels.start(plan, argv, BatchModels.environment(plan, dbEnv), "srun");
        sruns.put(plan.name(), p);
        Instant started = Instant.now();
        Map<String, String> handle = new LinkedHashMap<>();
        handle.put(JOB, jobId);
        handle.put(MODE, MODE_ALLOC);
        Optional<Found> step;
        try {
            step = findStep(jobId, plan.name(), p);
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted while starting model '" + plan.name() + "'; its srun was stopped",
                    e);
        }
        step.ifPresent(s -> handle.put(STEP, s.step()));
        step.flatMap(s -> SlurmModelStates.node(s.nodeList())).ifPresent(n -> handle.put(NODE, n));
        return new LaunchedModel(plan.name(), name(), step.map(s -> jobId + "." + s.step()).orElse(jobId),
                Optional.of(p.pid()), started, handle);
    }

    /** A new srun's step: its id within the job, and the nodes squeue (or sacct) lists for it. */
    private record Found(String step, String nodeList) {
    }

    /**
     * The step id of the srun just started, with its nodes: the newest running step of {@code jobId} named
     * {@code stepName} that no other model of this launcher has claimed. Looked for until it shows, its srun exits
     * (then in sacct), or {@link #STEP_LOOKUP} passes (a step waiting for free CPUs): then empty, and stop terminates
     * its srun instead.
     */
    private Optional<Found> findStep(String jobId, String stepName, Process srun) throws InterruptedException {
        Backoff backoff = new Backoff(Deadline.after(STEP_LOOKUP), Duration.ofMillis(20), Duration.ofMillis(250));
        do {
            boolean exited = !srun.isAlive();
            CommandResult r = runner.run(SlurmCommands.squeueSteps(List.of(jobId)), COMMAND_TIMEOUT);
            List<Found> candidates = new ArrayList<>();
            if (r.ok()) {
                for (Step s : SlurmParsers.steps(r.stdout())) {
                    if (s.name().equals(stepName) && s.jobId().equals(jobId)) {
                        candidates.add(new Found(s.id().substring(jobId.length() + 1), s.nodeList()));
                    }
                }
            }
            if (exited && candidates.isEmpty()) {
                CommandResult acct = runner.run(SlurmCommands.sacct(List.of(jobId)), COMMAND_TIMEOUT);
                if (acct.ok()) {
                    for (Accounting a : SlurmParsers.accounting(acct.stdout())) {
                        if (a.name().equals(stepName) && a.id().startsWith(jobId + ".")) {
                            candidates.add(new Found(a.id().substring(jobId.length() + 1), a.nodeList()));
                        }
                    }
                }
            }
            Optional<Found> newest = candidates.stream().filter(s -> s.step().matches("[0-9]+"))
                    .filter(s -> !claimedSteps.contains(jobId + "." + s.step()))
                    .max(java.util.Comparator.comparingLong(s -> Long.parseLong(s.step())));
            if (newest.isPresent() && claimedSteps.add(jobId + "." + newest.get().step())) {
                return newest;
            }
            if (exited) {
                return Optional.empty();
            }
        } while (backoff.pause());
        return Optional.empty();
    }

    @Override
    public Map<String, ModelState> poll(List<LaunchedModel> models) {
        Map<String, ModelState> out = new LinkedHashMap<>();
        List<LaunchedModel> batch = new ArrayList<>();
        List<LaunchedModel> foreignSteps = new ArrayList<>();
        for (LaunchedModel m : models) {
            Process p = sruns.get(m.name());
            if (p != null) {
                out.put(m.name(), p.isAlive() ? ModelState.of(EntityStatus.RUNNING) : ended(m.name(), p.exitValue()));
            } else if (MODE_BATCH.equals(m.handle().get(MODE))) {
                batch.add(m);
            } else if (m.handle().containsKey(STEP)) {
                foreignSteps.add(m);
            }
            // an in-allocation model started by another process without a known step: nothing to ask about
        }
        List<LaunchedModel> gone = new ArrayList<>();
        if (!batch.isEmpty()) {
            Map<String, Job> queued = new LinkedHashMap<>();
            Optional<List<Job>> jobs = queue(SlurmCommands.squeueJobsAnyState(batch.stream().map(m -> m.handle()
                    .get(JOB)).distinct().toList()))
                    .map(SlurmParsers::jobs);
            if (jobs.isPresent()) {
                jobs.get().forEach(j -> queued.put(j.id(), j));
                Map<LaunchedModel, Optional<String>> left = new LinkedHashMap<>();
                for (LaunchedModel m : batch) {
                    Job j = queued.get(m.handle().get(JOB));
                    Optional<ModelState> s = j == null ? Optional.empty() : SlurmModelStates.fromQueue(j);
                    if (s.isPresent()) {
                        goneSince.remove(m.name()); // (again) in the queue: requeued
                        // its nodes once it runs (none while pending): squeue's %N
                        out.put(m.name(), s.get().withNode(SlurmModelStates.node(j)));
                    } else {
                        left.put(m, Optional.ofNullable(j).map(Job::state)); // an end state squeue still shows
                    }
                }
                Map<String, ModelState> ended = leftQueue(left);
                for (LaunchedModel m : left.keySet()) {
                    Job j = queued.get(m.handle().get(JOB));
                    ModelState s = ended.get(m.name());
                    if (s != null) {
                        // a job that ran and ended between two polls: the nodes squeue still shows, else sacct's
                        Optional<String> node = j == null ? Optional.empty() : SlurmModelStates.node(j);
                        out.put(m.name(), node.isPresent() ? s.withNode(node) : s);
                    }
                }
            }
        }
        if (!foreignSteps.isEmpty()) {
            Optional<List<Step>> steps = queue(SlurmCommands.squeueSteps(foreignSteps.stream()
                    .map(m -> m.handle().get(JOB)).distinct().toList())).map(SlurmParsers::steps);
            if (steps.isPresent()) {
                Map<String, Step> live = new LinkedHashMap<>();
                steps.get().forEach(s -> live.put(s.id(), s));
                for (LaunchedModel m : foreignSteps) {
                    Step st = live.get(m.handle().get(JOB) + "." + m.handle().get(STEP));
                    if (st != null) {
                        out.put(m.name(), ModelState.of(EntityStatus.RUNNING)
                                .withNode(SlurmModelStates.node(st.nodeList())));
                    } else {
                        gone.add(m);
                    }
                }
            }
        }
        if (!gone.isEmpty()) {
            CommandResult r = runner.run(SlurmCommands.sacct(gone.stream().map(m -> m.handle().get(JOB)).distinct()
                    .toList()), COMMAND_TIMEOUT);
            if (r.ok()) {
                Map<String, Accounting> rows = new LinkedHashMap<>();
                SlurmParsers.accounting(r.stdout()).forEach(a -> rows.put(a.id(), a));
                for (LaunchedModel m : gone) {
                    Accounting a = rows.get(m.handle().get(JOB) + "." + m.handle().get(STEP));
                    if (a != null) {
                        out.put(m.name(), SlurmModelStates.fromAccounting(a)
                                .withNode(SlurmModelStates.node(a.nodeList())));
                    }
                    // no record yet (slurmdbd lags the queue by a moment): unchanged until the next poll
                }
            }
        }
        // a database that did not start on a node: the wrapper's error file says why, in place of a bare exit code
        out.replaceAll((name, s) -> Optional.ofNullable(colocated.get(name)).map(c -> ColocatedStatus.explained(c, s))
                .orElse(s));
        return out;
    }

    /**
     * The batch models whose jobs have left the queue, as {@link SlurmModelStates#leftQueue} judges them: first the
     * exit file each one's script wrote, then one sacct for those without one. A model about which nothing is known
     * yet is left out (unchanged) until {@link #NO_STATUS_WAIT} has passed since its job was first seen gone.
     */
    private Map<String, ModelState> leftQueue(Map<LaunchedModel, Optional<String>> left) {
        Map<String, ModelState> out = new LinkedHashMap<>();
        if (left.isEmpty()) {
            return out;
        }
        long now = System.nanoTime();
        Map<LaunchedModel, Optional<Integer>> codes = new LinkedHashMap<>();
        Map<LaunchedModel, String> unread = new LinkedHashMap<>();
        for (LaunchedModel m : left.keySet()) {
            goneSince.putIfAbsent(m.name(), now);
            String file = m.handle().get(EXIT_FILE);
            Optional<Integer> code = Optional.empty();
            if (file == null) {
                unread.put(m, "its handle names no exit file (started by an older launcher)");
            } else {
                try {
                    Optional<String> text = runner.readFile(Path.of(file), COMMAND_TIMEOUT);
                    code = text.flatMap(SlurmModelStates::exitFile);
                    unread.put(m, text.isEmpty() ? "its script wrote no exit code to " + file
                            : file + " holds no exit code (" + text.get().strip() + ")");
                } catch (LaunchException e) {
                    unread.put(m, e.getMessage());
                }
            }
            codes.put(m, code);
        }
        List<LaunchedModel> ask = left.keySet().stream().filter(m -> codes.get(m).isEmpty()).toList();
        Map<String, Accounting> rows = new LinkedHashMap<>();
        String sacctSaid = "";
        if (!ask.isEmpty()) {
            CommandResult r = runner.run(SlurmCommands.sacct(ask.stream().map(m -> m.handle().get(JOB)).distinct()
                    .toList()), COMMAND_TIMEOUT);
            if (r.ok()) {
                SlurmParsers.accounting(r.stdout()).forEach(a -> rows.put(a.id(), a));
            } else {
                sacctSaid = "sacct failed: " + r.stderr().strip().lines().reduce((a, b) -> b).orElse("exit code "
                        + r.exitCode());
            }
        }
        for (LaunchedModel m : left.keySet()) {
            String job = m.handle().get(JOB);
            Optional<Accounting> a = Optional.ofNullable(rows.get(job));
            String acct = !sacctSaid.isEmpty() ? sacctSaid : a.map(x -> "sacct says " + x.state())
                    .orElse("sacct has no record of it");
            Optional<ModelState> s = SlurmModelStates.leftQueue(job, codes.get(m), a, left.get(m),
                    cancelled.contains(m.name()),
                    Duration.ofNanos(now - goneSince.get(m.name())), NO_STATUS_WAIT, unread.get(m) + "; " + acct);
            // where it ran, from sacct's record of the job when it was asked (None assigned: it never ran)
            s.ifPresent(x -> out.put(m.name(), x.withNode(a.flatMap(y -> SlurmModelStates.node(y.nodeList())))));
        }
        return out;
    }

    /** squeue's output; empty when it failed (a passing failure is not a model's end), "" for unknown ids. */
    private Optional<String> queue(List<String> argv) {
        CommandResult r = runner.run(argv, COMMAND_TIMEOUT);
        if (r.ok()) {
            return Optional.of(r.stdout());
        }
        return r.stderr().contains("Invalid job id") ? Optional.of("") : Optional.empty();
    }

    /** srun exits with the highest task exit code; a task killed by a signal counts as 128 + the signal. */
    private ModelState ended(String name, int code) {
        return BatchModels.ended(cancelled.contains(name), code, "stopped on request (scancel)");
    }

    /**
     * One {@code scancel} for every step and batch job (never the allocation itself, only the model's own step),
     * then waits up to {@code grace} until the sruns started here have exited and Slurm lists none of the steps and
     * jobs. What is left then gets a second {@code scancel} and SIGTERM to its srun (srun cancels its step, or its
     * pending step request, when terminated; a step id never learnt is handled this way from the start), and
     * {@link #CANCEL_WAIT} more; an srun still there is killed, and a step or job Slurm still lists is an error
     * naming it. A killed srun alone would leave its step running: it is the last resort.
     */
    @Override
    public void stop(List<LaunchedModel> models, Duration grace) {
        List<LaunchedModel> live = new ArrayList<>();
        for (LaunchedModel m : models) {
            Process p = sruns.get(m.name());
            if (p != null && !p.isAlive()) {
                continue; // finished before the stop: it keeps its own status
            }
            cancelled.add(m.name());
            live.add(m);
            if (p != null && !m.handle().containsKey(STEP)) {
                p.destroy();
            }
        }
        List<String> ids = SlurmModelScripts.cancelIds(live.stream().map(LaunchedModel::handle).toList());
        List<Process> local = live.stream().map(m -> sruns.get(m.name())).filter(p -> p != null).toList();
        try {
            scancel(ids);
            if (awaitGone(local, ids, Deadline.after(grace))) {
                return;
            }
            scancel(ids);
            local.forEach(Process::destroy);
            if (awaitGone(local, ids, Deadline.after(CANCEL_WAIT))) {
                return;
            }
            local.forEach(Process::destroyForcibly);
            throw new LaunchException("Slurm still lists " + String.join(", ", stillListed(ids)) + " "
                    + CANCEL_WAIT.toSeconds() + " s after a second scancel; check squeue -s and scancel them by hand");
        } catch (InterruptedException e) {
            scancel(ids);
            local.forEach(Process::destroy);
            Thread.currentThread().interrupt();
        }
    }

    private void scancel(List<String> ids) {
        if (ids.isEmpty()) {
            return;
        }
        CommandResult r = runner.run(SlurmCommands.scancel(ids), COMMAND_TIMEOUT);
        if (!r.ok() && !r.stderr().contains("Invalid job id")) {
            throw new LaunchException("scancel failed for the models' steps and jobs: " + r.describe());
        }
    }

    /** Waits until every srun has exited and Slurm lists none of {@code ids} as running or queued; false at the deadline. */
    private boolean awaitGone(List<Process> local, List<String> ids, Deadline deadline) throws InterruptedException {
        Backoff backoff = new Backoff(deadline, Duration.ofMillis(20), Duration.ofMillis(250));
        while (true) {
            if (local.stream().noneMatch(Process::isAlive) && stillListed(ids).isEmpty()) {
                return true;
            }
            if (!backoff.pause()) {
                return false;
            }
        }
    }

    /** Which of these steps ({@code JOB.STEP}) and jobs Slurm still runs or queues: one squeue for each kind. */
    private List<String> stillListed(List<String> ids) {
        List<String> steps = ids.stream().filter(i -> i.contains(".")).toList();
        List<String> jobs = ids.stream().filter(i -> !i.contains(".")).toList();
        List<String> left = new ArrayList<>();
        if (!steps.isEmpty()) {
            Optional<String> out = queue(SlurmCommands.squeueSteps(steps.stream().map(i -> i.substring(0,
                    i.indexOf('.'))).distinct().toList()));
            if (out.isEmpty()) {
                left.addAll(steps); // cannot tell: assume still there
            } else {
                Set<String> running = new LinkedHashSet<>();
                SlurmParsers.steps(out.get()).forEach(st -> running.add(st.id()));
                steps.stream().filter(running::contains).forEach(left::add);
            }
        }
        if (!jobs.isEmpty()) {
            Optional<String> out = queue(SlurmCommands.squeueJobs(jobs));
            if (out.isEmpty()) {
                left.addAll(jobs);
            } else {
                SlurmParsers.jobs(out.get()).stream().filter(j -> !j.finished()).forEach(j -> left.add(j.id()));
            }
        }
        return left;
    }
}
