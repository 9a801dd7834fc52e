package io.smartsim.launch.pbs;

import io.smartsim.launch.batch.BatchModels;
import io.smartsim.launch.batch.BatchStart;
import io.smartsim.launch.colocated.ColocatedPlanner;
import io.smartsim.launch.colocated.ColocatedStatus;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spec.BatchSettings;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.spi.ModelState;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.pbs.PbsParsers.Job;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs models with PBS (PBS Professional / OpenPBS or Torque): with {@code run.batch} each one is a qsub batch job
 * of its own ({@code <name>.pbs}, owner-only since it exports the database password); otherwise it runs inside a PBS
 * job ({@code run.alloc}, else {@code PBS_JOBID}), started by a run command ({@code mpiexec}, {@code pbsdsh} or
 * {@code ssh}, as for orchestrators) that runs its task script on the job's nodes; the run command is a child of
 * this JVM whose stdout and stderr go to the model's files. Batch jobs' status comes from one {@code qstat -f} per
 * dialect for all of them, with the exit code the job's script wrote beside it where PBS reports none. Stop is one
 * {@code qdel} of every batch job; in a job, the run command is terminated (and a model ssh started is killed on its
 * node). Scheduler commands go through the {@link CommandRunner} it is given.
 */
public final class PbsModelLauncher implements ModelLauncher {
    /** Handle keys recorded for each model. */
    public static final String JOB = BatchStart.JOB;
    public static final String MODE = BatchStart.MODE;
    public static final String MODE_ALLOC = BatchStart.MODE_ALLOC;
    public static final String MODE_BATCH = BatchStart.MODE_BATCH;
    public static final String DIALECT = "dialect";
    public static final String RUN = "runCommand";
    /**
     * The node(s) the model runs on: in a job, known at start (ssh and pbsdsh: the job's first node; mpiexec: the
     * nodes it is given, comma-separated); a batch job's once it runs, from qstat's {@code exec_host} through
     * {@link ModelState#node} ({@link PbsModelStates#node}). The ssh run command's stop kills the model on it.
     */
    public static final String NODE = LaunchedModel.NODE;
    public static final String EXIT_FILE = "exitFile";
    public static final String PID_FILE = "pidFile";

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    /** After qdel PBS can keep a job in R for several seconds (8 s seen on OpenPBS with 3 nodes). */
    private static final Duration QDEL_WAIT = Duration.ofSeconds(30);

    private final CommandRunner runner;
    private final Map<String, String> env;
    private final Optional<Dialect> dialect;
    private final Optional<RunCommand> runCommand;
    private final Optional<Path> sshConfig;
    private final Map<String, Process> clients = new ConcurrentHashMap<>();
    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
    /** The colocated databases of the models started here, by model name: why one failed, if its database did. */
    private final Map<String, ColocatedPlan> colocated = new ConcurrentHashMap<>();
    private volatile PbsLauncher.Detected detected;

    /**
     * Runs scheduler commands on this machine, reads {@code PBS_JOBID}/{@code PBS_NODEFILE} from this process's
     * environment, detects the dialect from {@code qstat --version} and chooses the run command as the orchestrator
     * launcher's {@code auto} does.
     */
    public PbsModelLauncher() {
        this(new LocalCommandRunner(), System.getenv(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    /**
     * @param runner     where scheduler commands run
     * @param env        the environment to find {@code PBS_JOBID} and {@code PBS_NODEFILE} in
     * @param dialect    the dialect; empty: detected from {@code qstat --version}
     * @param runCommand the run command inside a job; empty: chosen as {@code auto}
     * @param sshConfig  an ssh client config for the {@code ssh} run command ({@code ssh -F})
     */
    public PbsModelLauncher(CommandRunner runner, Map<String, String> env, Optional<Dialect> dialect,
                            Optional<RunCommand> runCommand, Optional<Path> sshConfig) {
        this.runner = runner;
        this.env = Map.copyOf(env);
        this.dialect = dialect;
        this.runCommand = runCommand;
        this.sshConfig = sshConfig;
    }

    @Override
    public String name() {
        return PbsLauncher.NAME;
    }

    /**
     * Each rank runs through the colocated wrapper (docs/colocated.md): the batch script's command (the executable,
     * or each rank of mpiexec) and the task script of a model in a job. The model's directory must be at the same path
     * on every node.
     */
    @Override
    public boolean runsColocatedDatabases() {
        return true;
    }

    /**
     * Refuses what PBS cannot honour, naming the field: a QOS (PBS has none), batch values that cannot be one
     * {@code #PBS} word, options that are not one qsub option, run-command arguments that repeat a run setting, a
     * model in a job with no job to run in, and more than one task for pbsdsh or ssh. The executable is not looked
     * for here: it must exist on the compute nodes.
     */
    @Override
    public void validate(ModelPlan plan) {
        String who = "model '" + plan.name() + "': ";
        PbsModelScripts.conflict(plan.run().runArgs()).ifPresent(problem -> {
            throw new InvalidSpecException("run.runArgs", who + problem);
        });
        Optional<BatchSettings> batch = plan.run().batch();
        if (batch.isPresent()) {
            BatchSettings b = batch.get();
            b.qos().ifPresent(q -> {
                throw new InvalidSpecException("run.batch.qos", who + "PBS has no QOS ('" + q + "'); remove it, or "
                        + "give what your site uses in run.batch.options (for example -l qos=" + q + ")");
            });
            b.partition().ifPresent(q -> word("run.batch.partition", who, q));
            b.account().ifPresent(a -> word("run.batch.account", who, a));
            for (String o : b.options()) {
                if (!o.startsWith("-")) {
                    throw new InvalidSpecException("run.batch.options", who + "'" + o + "' is not one qsub option; "
                            + "give each as its own entry without '#PBS', for example -l mem=4gb");
                }
            }
            return;
        }
        String job = allocation(plan);
        int tasks = plan.run().totalTasks();
        boolean inside = nodeFile(job).isPresent();
        if (tasks > 1 || plan.run().nodes() > 1) {
            if (!inside) {
                throw new InvalidSpecException("run.tasks", who + plan.run().nodes() + " node(s), " + tasks
                        + " task(s) from outside job " + job + ": only ssh reaches its nodes from here, and it starts "
                        + "one task; run inside the job (mpiexec), or give run.batch");
            }
            runCommand.filter(r -> r != RunCommand.MPIEXEC).ifPresent(r -> {
                throw new InvalidSpecException("run.tasks", who + plan.run().nodes() + " node(s), " + tasks
                        + " task(s), but the run command " + r.binary() + " starts one task here; use mpiexec");
            });
        }
        if (!inside && runCommand.filter(r -> r != RunCommand.SSH).isPresent()) {
            throw new InvalidSpecException("run.alloc", who + runCommand.get().binary() + " only works inside the job"
                    + " (PBS_JOBID and PBS_NODEFILE of job " + job + " are not set here); use ssh");
        }
        if (runCommand.filter(r -> r != RunCommand.MPIEXEC).isPresent() && !plan.run().runArgs().isEmpty()) {
            throw new InvalidSpecException("run.runArgs", who + "run-command arguments go to mpiexec, but the run "
                    + "command is " + runCommand.get().binary());
        }
    }

    private static void word(String field, String who, String value) {
        if (!PbsModelScripts.DIRECTIVE_VALUE.matcher(value).matches()) {
            throw new InvalidSpecException(field, who + "'" + value + "' cannot be a #PBS value: it must be one word "
                    + "without spaces, quotes, '\\' or '#'");
        }
    }

    private String allocation(ModelPlan plan) {
        return BatchModels.allocation(plan, env, "PBS_JOBID", "inside a PBS job", "run inside qsub -I or a job "
                + "script");
    }

    /** {@code PBS_NODEFILE}, when this process runs inside job {@code jobId} itself. */
    private Optional<Path> nodeFile(String jobId) {
        String id = env.get("PBS_JOBID");
        String file = env.get("PBS_NODEFILE");
        if (id == null || file == null || file.isBlank() || !PbsParsers.sameJob(id, jobId)) {
            return Optional.empty();
        }
        return Optional.of(Path.of(file));
    }

    private Dialect dialect() {
        if (dialect.isPresent()) {
            return dialect.get();
        }
        PbsLauncher.Detected d = detected;
        if (d == null) {
            d = PbsLauncher.detect(runner);
            detected = d;
        }
        return d.dialect();
    }

    @Override
    public RenderedLaunch render(ModelPlan plan, Map<String, String> dbEnv) {
        Map<String, String> environment = BatchModels.environment(plan, dbEnv);
        Map<String, String> scripts = new LinkedHashMap<>();
        plan.colocated().ifPresent(c -> scripts.putAll(ColocatedPlanner.files(c)));
        if (plan.run().batch().isPresent()) {
            scripts.put(PbsModelScripts.batchPath(plan).toString(), PbsModelScripts.batch(plan, environment,
                    dialect()));
            return new RenderedLaunch(PbsModelScripts.qsub(plan), environment, scripts);
        }
        String job = allocation(plan);
        List<String> nodes = nodes(job);
        RunCommand run = chooseRunCommand(plan, job);
        scripts.put(PbsModelScripts.taskPath(plan).toString(), PbsModelScripts.task(plan, environment, job, run));
        return new RenderedLaunch(PbsModelScripts.runTask(run, plan, nodes, sshConfig), environment, scripts);
    }

    @Override
    public LaunchedModel start(ModelPlan plan, Map<String, String> dbEnv) {
        plan.colocated().ifPresentOrElse(c -> colocated.put(plan.name(), c), () -> colocated.remove(plan.name()));
        return plan.run().batch().isPresent() ? submit(plan, dbEnv) : inJob(plan, dbEnv);
    }

    private LaunchedModel submit(ModelPlan plan, Map<String, String> dbEnv) {
        Dialect d = dialect();
        writeOwnerOnly(plan, PbsModelScripts.batchPath(plan), PbsModelScripts.batch(plan,
                BatchModels.environment(plan, dbEnv), d));
        deleteStale(PbsModelScripts.exitPath(plan));
        CommandResult r = runner.run(PbsModelScripts.qsub(plan), COMMAND_TIMEOUT);
        if (!r.ok()) {
            throw new LaunchException("qsub rejected the batch job of model '" + plan.name() + "': " + r.describe());
        }
        String jobId;
        try {
            jobId = PbsParsers.jobId(r.stdout());
        } catch (IllegalArgumentException e) {
            throw new LaunchException("qsub accepted the batch job of model '" + plan.name() + "' but "
                    + e.getMessage() + ": " + r.describe(), e);
        }
        Map<String, String> handle = new LinkedHashMap<>();
        handle.put(JOB, jobId);
        handle.put(MODE, MODE_BATCH);
        handle.put(DIALECT, d.option());
        handle.put(EXIT_FILE, PbsModelScripts.exitPath(plan).toString());
        return new LaunchedModel(plan.name(), name(), jobId, Optional.empty(), Instant.now(), handle);
    }

    private LaunchedModel inJob(ModelPlan plan, Map<String, String> dbEnv) {
        String job = allocation(plan);
        List<String> nodes = nodes(job);
        RunCommand run = chooseRunCommand(plan, job);
        writeOwnerOnly(plan, PbsModelScripts.taskPath(plan), PbsModelScripts.task(plan,
                BatchModels.environment(plan, dbEnv), job, run));
        deleteStale(PbsModelScripts.pidPath(plan));
        List<String> argv = PbsModelScripts.runTask(run, plan, nodes, sshConfig);
        // The model's environment is written into its task script (PbsModelScripts.task), not given to the run command.
        Process p = BatchModels.start(plan, argv, Map.of(), run.binary());
        clients.put(plan.name(), p);
        Map<String, String> handle = new LinkedHashMap<>();
        handle.put(JOB, job);
        handle.put(MODE, MODE_ALLOC);
        handle.put(RUN, run.binary());
        handle.put(NODE, run == RunCommand.MPIEXEC
                ? String.join(",", nodes.subList(0, Math.min(nodes.size(), Math.max(1, plan.run().nodes()))))
                : nodes.get(0)); // ssh and pbsdsh -n 0: the first node
        handle.put(PID_FILE, PbsModelScripts.pidPath(plan).toString());
        sshConfig.ifPresent(c -> handle.put("sshConfig", c.toString()));
        return new LaunchedModel(plan.name(), name(), job, Optional.of(p.pid()), Instant.now(), handle);
    }

    /** The job's distinct nodes in order: from its node file inside the job, else from qstat's exec_host. */
    private List<String> nodes(String job) {
        Optional<Path> file = nodeFile(job);
        if (file.isPresent()) {
            return PbsParsers.nodeFile(runner.readFile(file.get(), COMMAND_TIMEOUT).orElseThrow(() ->
                    new LaunchException("the job's node file " + file.get() + " does not exist on " + runner.where())));
        }
        Job j = PbsParsers.find(qstat(dialect(), List.of(job)).orElse(List.of()), job).orElseThrow(() ->
                new InvalidSpecException("run.alloc", "job " + job + " is not known to PBS (finished or never "
                        + "existed); start a new one or give run.batch"));
        if (!j.running()) {
            throw new InvalidSpecException("run.alloc", "job " + job + " is " + j.describe() + ", not running; "
                    + "wait until it runs");
        }
        return PbsParsers.execHosts(j.execHost());
    }

    /**
     * The run command given, or as {@code auto}: outside the job only ssh reaches its nodes; inside, mpiexec for
     * several tasks, else the first of pbsdsh, mpiexec, ssh that {@code which} finds.
     */
    private RunCommand chooseRunCommand(ModelPlan plan, String job) {
        if (runCommand.isPresent()) {
            return runCommand.get();
        }
        if (nodeFile(job).isEmpty()) {
            return RunCommand.SSH;
        }
        boolean several = plan.run().totalTasks() > 1 || plan.run().nodes() > 1 || !plan.run().runArgs().isEmpty();
        List<RunCommand> order = several ? List.of(RunCommand.MPIEXEC) : RunCommand.AUTO_ORDER;
        List<String> names = order.stream().map(RunCommand::binary).toList();
        CommandResult r = runner.run(PbsCommands.which(names), COMMAND_TIMEOUT);
        for (RunCommand c : order) {
            if (r.stdout().lines().map(String::strip).anyMatch(l -> l.endsWith("/" + c.binary()))) {
                return c;
            }
        }
        throw new LaunchException("model '" + plan.name() + "': no run command found on " + runner.where()
                + ": none of " + names + " is on PATH (" + r.describe() + ")");
    }

    private static void writeOwnerOnly(ModelPlan plan, Path script, String text) {
        BatchModels.writeOwnerOnly(plan, script, text, "script");
    }

    private static void deleteStale(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new LaunchException("cannot remove " + file + " from an earlier run: " + e.getMessage(), e);
        }
    }

    @Override
    public Map<String, ModelState> poll(List<LaunchedModel> models) {
        Map<String, ModelState> out = new LinkedHashMap<>();
        Map<Dialect, List<LaunchedModel>> batch = new LinkedHashMap<>();
        for (LaunchedModel m : models) {
            Process p = clients.get(m.name());
            if (p != null) {
                out.put(m.name(), p.isAlive() ? ModelState.of(EntityStatus.RUNNING) : ended(m.name(), p.exitValue()));
            } else if (MODE_BATCH.equals(m.handle().get(MODE)) && m.handle().containsKey(JOB)) {
                batch.computeIfAbsent(dialectOf(m), d -> new ArrayList<>()).add(m);
            }
            // a model in a job started by another process: its run command is not ours to watch
        }
        for (Map.Entry<Dialect, List<LaunchedModel>> e : batch.entrySet()) {
            Optional<List<Job>> jobs = qstat(e.getKey(), e.getValue().stream().map(m -> m.handle().get(JOB))
                    .distinct().toList());
            if (jobs.isEmpty()) {
                continue; // PBS could not be asked: a passing failure is not a model's end
            }
            for (LaunchedModel m : e.getValue()) {
                String id = m.handle().get(JOB);
                boolean stopped = cancelled.contains(m.name());
                Optional<Job> j = PbsParsers.find(jobs.get(), id);
                // where it runs, once it does: exec_host (also of a finished job PBS still lists)
                Optional<String> node = j.flatMap(PbsModelStates::node);
                if (j.isPresent() && !j.get().finished()) {
                    out.put(m.name(), PbsModelStates.fromJob(j.get(), Optional.empty(), stopped).withNode(node));
                } else {
                    Optional<Integer> code = exitCode(m);
                    out.put(m.name(), j.map(x -> PbsModelStates.fromJob(x, code, stopped))
                            .orElseGet(() -> PbsModelStates.gone(id, code, stopped)).withNode(node));
                }
            }
        }
        // a database that did not start on a node: the wrapper's error file says why, in place of a bare exit code
        out.replaceAll((name, st) -> Optional.ofNullable(colocated.get(name)).map(c -> ColocatedStatus.explained(c, st))
                .orElse(st));
        return out;
    }

    private Optional<Integer> exitCode(LaunchedModel m) {
        String file = m.handle().get(EXIT_FILE);
        if (file == null) {
            return Optional.empty();
        }
        return runner.readFile(Path.of(file), COMMAND_TIMEOUT).flatMap(PbsModelStates::exitFile);
    }

    private static Dialect dialectOf(LaunchedModel m) {
        return Dialect.fromOption(m.handle().getOrDefault(DIALECT, "")).orElse(Dialect.TORQUE);
    }

    /**
     * The jobs among {@code ids} PBS lists, from one qstat; empty when PBS could not be asked. "Unknown Job Id"
     * (exit 153, Slurm's wrapper prints nothing) means none of them is listed.
     */
    private Optional<List<Job>> qstat(Dialect d, List<String> ids) {
        CommandResult r = runner.run(PbsCommands.qstat(d, ids), COMMAND_TIMEOUT);
        List<Job> all;
        try {
            all = d == Dialect.PRO ? PbsParsers.qstatJson(r.stdout()) : PbsParsers.qstatText(r.stdout());
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        if (!r.ok() && all.isEmpty() && !PbsLauncher.unknownJob(r)) {
            return Optional.empty();
        }
        return Optional.of(all.stream().filter(j -> ids.stream().anyMatch(id -> PbsParsers.sameJob(j.id(), id)))
                .toList());
    }

    private ModelState ended(String name, int code) {
        return BatchModels.ended(cancelled.contains(name), code, "stopped on request");
    }

    /**
     * One {@code qdel} of every batch job still queued or running, then waits (up to {@code grace} plus
     * {@link #QDEL_WAIT}) until qstat shows none of them queued or running, and fails naming any still listed.
     * In a job: a model ssh started is killed on its node (its pid from the task script); the run command is
     * terminated, and killed after {@code grace}.
     */
    @Override
    public void stop(List<LaunchedModel> models, Duration grace) {
        Map<String, ModelState> now = poll(models);
        Map<Dialect, List<String>> jobs = new LinkedHashMap<>();
        List<Process> local = new ArrayList<>();
        for (LaunchedModel m : models) {
            ModelState s = now.get(m.name());
            if (s != null && s.status().terminal()) {
                continue; // finished before the stop: it keeps its own status
            }
            cancelled.add(m.name());
            if (MODE_BATCH.equals(m.handle().get(MODE))) {
                jobs.computeIfAbsent(dialectOf(m), d -> new ArrayList<>()).add(m.handle().get(JOB));
                continue;
            }
            if (RunCommand.SSH.binary().equals(m.handle().get(RUN)) && m.handle().containsKey(PID_FILE)) {
                Optional<Long> pid = runner.readFile(Path.of(m.handle().get(PID_FILE)), COMMAND_TIMEOUT)
                        .map(String::strip).filter(t -> t.matches("[0-9]+")).map(Long::valueOf);
                Optional<Path> cfg = Optional.ofNullable(m.handle().get("sshConfig")).map(Path::of);
                pid.ifPresent(x -> runner.run(PbsCommands.sshKill(cfg, m.handle().get(NODE), x), COMMAND_TIMEOUT));
            }
            Process p = clients.get(m.name());
            if (p != null) {
                p.destroy();
                local.add(p);
            }
        }
        List<String> all = jobs.values().stream().flatMap(List::stream).toList();
        if (!all.isEmpty()) {
            CommandResult r = runner.run(PbsCommands.qdel(all), COMMAND_TIMEOUT);
            if (!r.ok() && !PbsLauncher.unknownJob(r)) {
                throw new LaunchException("qdel failed for the models' batch jobs: " + r.describe());
            }
        }
        try {
            Deadline deadline = Deadline.after(grace);
            for (Process p : local) {
                if (!p.waitFor(Math.max(1, deadline.capMillis(grace)), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                }
            }
            List<String> left = awaitJobsGone(jobs, Deadline.after(grace.plus(QDEL_WAIT)));
            if (!left.isEmpty()) {
                throw new LaunchException("PBS still lists " + String.join(", ", left) + " as queued or running "
                        + grace.plus(QDEL_WAIT).toSeconds() + " s after qdel; check qstat and qdel -W force them");
            }
        } catch (InterruptedException e) {
            local.forEach(Process::destroyForcibly);
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until none of the jobs is queued, running or exiting; the ones still listed at the deadline. */
    private List<String> awaitJobsGone(Map<Dialect, List<String>> jobs, Deadline deadline) throws InterruptedException {
        Backoff backoff = new Backoff(deadline, Duration.ofMillis(100), Duration.ofMillis(1000));
        while (true) {
            List<String> left = new ArrayList<>();
            for (Map.Entry<Dialect, List<String>> e : jobs.entrySet()) {
                Optional<List<Job>> listed = qstat(e.getKey(), e.getValue());
                if (listed.isEmpty()) {
                    left.addAll(e.getValue()); // cannot tell: assume still there
                } else {
                    listed.get().stream().filter(j -> !j.finished()).forEach(j -> left.add(j.id()));
                }
            }
            if (left.isEmpty() || !backoff.pause()) {
                return left;
            }
        }
    }
}
