package io.smartsim.launch.pbs;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.cluster.ModelServerProbe;
import io.smartsim.launch.cluster.Ping;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.TransportSource;
import io.smartsim.launch.exec.Detached;
import io.smartsim.launch.exec.Transports;
import io.smartsim.launch.pbs.PbsParsers.Job;
import io.smartsim.launch.pbs.PbsParsers.ShardReport;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.PortSearch;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.spi.TlsFiles;
import io.smartsim.launch.batch.BatchLauncher;
import io.smartsim.launch.batch.BatchModelServers;
import io.smartsim.launch.batch.BatchScripts;
import io.smartsim.launch.batch.BatchDialect;
import io.smartsim.launch.batch.BatchStart;
import io.smartsim.launch.cluster.Landing;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.LauncherContext;
import io.smartsim.launch.spi.Unsupported;
import io.smartsim.launch.supervise.LeaseGuard;
import io.smartsim.launch.util.Backoff;
import io.smartsim.launch.util.Deadline;
import io.smartsim.launch.util.ListeningPorts;
import io.smartsim.launch.util.Parallel;

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
import java.util.function.Consumer;

/**
 * Runs each shard on a node of a PBS job (PBS Professional / OpenPBS or Torque): inside an existing job
 * ({@code PBS_JOBID} or {@code launcherOptions.alloc}), or as a batch job of its own ({@code batch=true}). A run
 * command ({@code pbsdsh}, {@code mpiexec} or {@code ssh}) starts a wrapper on the node that learns the node's
 * address, reports it in a small file under the shard's directory (the shared file system), and execs the server.
 * Every scheduler command, every file (configs, scripts, reports, logs) and the in-job run commands go through a
 * {@link CommandRunner}: the one this launcher is given, or the transport its options name ({@link Transports}:
 * this machine, or a login node with {@code remote=user@host}). Which one, it never knows; each shard records
 * what reopens it, so status and stop from another process use the same transport.
 */
public final class PbsLauncher extends BatchLauncher {
    public static final String NAME = "pbs";
    /** Handle keys recorded for each shard. */
    public static final String JOB = BatchStart.JOB;
    public static final String NODE = BatchStart.NODE;
    public static final String MODE = BatchStart.MODE;
    public static final String RUN = "runCommand";
    public static final String DIALECT = "dialect";
    /** The server's pid on its node, as its wrapper reported it (a node's pid, not this machine's). */
    public static final String NODE_PID = "nodePid";
    /**
     * Under {@code --ai} in an existing job: the pid, on this machine, of the run command's client that carries the
     * node's model server (pbsdsh, mpiexec, ssh); stop waits for it to return once the shards are gone.
     */
    public static final String AI_CLIENT = AiPlanner.HANDLE_PREFIX + "client";
    /**
     * A shard in an existing job recorded before it reported (just before its run command is spawned, and again with
     * that client's pid): its wrapper's path, which the client's command line here names. Were the start SIGKILLed
     * then, stop ends the client (by the recorded pid, or found by this path and the run command's name), and with it
     * the shard (its wrapper's watch follows its ssh session; pbsdsh and mpiexec end their task). Gone once it reports.
     */
    public static final String WRAPPER = "wrapper";
    /** The same for the node's {@code --ai} model server, whose client is spawned before its shards'. */
    public static final String AI_WRAPPER = AiPlanner.HANDLE_PREFIX + "wrapper";
    public static final String MODE_ALLOC = BatchStart.MODE_ALLOC;
    public static final String MODE_BATCH = BatchStart.MODE_BATCH;

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration PING_TIMEOUT = Duration.ofMillis(500);
    /** After qdel a 3-node OpenPBS job stayed in R for about 8 s before F. */
    private static final Duration QDEL_WAIT = Duration.ofSeconds(30);

    /**
     * Runs scheduler commands where the spec's options say ({@link Transports}: this machine unless {@code remote})
     * and reads {@code PBS_JOBID}/{@code PBS_NODEFILE} from this process's environment.
     */
    /** Working in this process's context ({@link LauncherContext#process()}): as {@code --launcher pbs} finds it. */
    public PbsLauncher() {
        this(LauncherContext.process());
    }

    /** Working in {@code context}: its transport runs the scheduler commands, {@code PBS_JOBID} is read in its env. */
    public PbsLauncher(LauncherContext context) {
        super(NAME, context);
    }

    /** @param runner where scheduler commands run, whatever the options say; @param env where to find {@code PBS_JOBID} */
    public PbsLauncher(CommandRunner runner, Map<String, String> env) {
        this(new LauncherContext(TransportSource.fixed(runner), env));
    }

    @Override
    public PbsLauncher in(LauncherContext context) {
        return new PbsLauncher(context);
    }

    /** The dead shard's wrapper again over ssh, on its node and port in its job: see {@link PbsRestart}. */
    @Override
    public LaunchedShard restart(LaunchPlan plan, LaunchedShard dead, LaunchContext ctx) {
        return new PbsRestart(plan, dead, ctx, runner(dead.handle())).go();
    }

    /**
     * What this launcher cannot supervise, refused by name at plan time: a lease behind a login node, restarts
     * outside an existing job or with a run command other than ssh, and restarts of an {@code --ai} orchestrator behind
     * a login node (its model servers would be started again from there). Package-private for its tests.
     */
    void refuseUnsupervisable(OrchestratorSpec spec) {
        if (spec.lease().isPresent() && spec.launcherOptions().containsKey(Transports.REMOTE)) {
            throw new InvalidSpecException("lease", "--lease is not supported with --remote yet: the lease file is "
                    + "renewed on this machine, but the nodes read it on the cluster's file system; run 'db start' on "
                    + "the login node, or leave --lease out");
        }
        if (spec.restart() != io.smartsim.launch.spec.RestartPolicy.ON_FAILURE) {
            return;
        }
        // --ai: a gone model server is started again by its wrapper over ssh on its node (reviveModelServers), under
        // the same conditions as a shard: in an existing job, with the ssh run command (checked below).
        if (spec.ai().isPresent() && spec.launcherOptions().containsKey(Transports.REMOTE)) {
            throw new InvalidSpecException("restart", "--restart on-failure with --ai is not available with the pbs "
                    + "launcher behind a login node (--remote) yet: a model server started again would be carried by "
                    + "an ssh client on the login node, which has not been tried; run 'db start' on the login node, or "
                    + "leave --restart out");
        }
        PbsOptions opts = PbsOptions.parse(spec.launcherOptions());
        if (opts.batch()) {
            // The job's script waits for its own run commands: a shard restarted from outside is not one of them, so
            // the job could end (and its trap stop the restarted shard) once the original ones have all ended.
            throw new InvalidSpecException("restart", "--restart on-failure needs an existing job with the pbs "
                    + "launcher (--alloc JOBID or PBS_JOBID), not --batch: a batch job ends once its script's own run "
                    + "commands have, and would end the restarted shards with it; start inside a job or leave "
                    + "--restart out");
        }
        boolean insideJob = env.get("PBS_JOBID") != null && env.get("PBS_NODEFILE") != null;
        RunCommand run = opts.runCommand().orElse(insideJob ? null : RunCommand.SSH);
        if (run != RunCommand.SSH) {
            throw new InvalidSpecException("restart", "--restart on-failure with the pbs launcher restarts a shard over "
                    + "ssh; " + (run == null ? "inside the job runCommand=auto may pick pbsdsh or mpiexec"
                    : "runCommand=" + run.binary() + " is not supported for restarts yet")
                    + " (only ssh has been tested); set runCommand=ssh or leave --restart out");
        }
    }

    @Override
    public Placement place(OrchestratorSpec spec) {
        refuseUnsupervisable(spec);
        if (spec.launcherOptions().containsKey(Transports.REMOTE)) {
            // The files would be copied like Slurm's, but no PBS behind a login node has been tried with TLS.
            Unsupported.tls(spec, NAME + " launcher behind a login node (--remote)");
        }
        PbsOptions opts = PbsOptions.parse(spec.launcherOptions());
        CommandRunner runner = runner(spec.launcherOptions());
        if (spec.interfaces().size() > 1) {
            throw new InvalidSpecException("interfaces", spec.interfaces() + ": the pbs launcher binds each shard "
                    + "to one address; give one interface (its address on each node is used)");
        }
        if (opts.batch()) {
            return batchPlacement(spec); // --ai: the module in each shard, a model server per node
        }
        String jobId = allocation(opts);
        List<String> hosts;
        String source;
        Optional<Path> nodeFile = ownNodeFile(jobId);
        if (nodeFile.isPresent()) {
            hosts = PbsParsers.nodeFile(read(runner, nodeFile.get()));
            source = "PBS_NODEFILE " + nodeFile.get();
        } else {
            Dialect dialect = opts.dialect().orElseGet(() -> detect(runner).dialect());
            Job job = PbsParsers.find(qstat(runner, dialect, List.of(jobId)), jobId).orElseThrow(() ->
                    new InvalidSpecException("launcherOptions.alloc", "job " + jobId + " is not known to PBS "
                            + "(finished or never existed); start a new one or use batch=true"));
            if (!job.running()) {
                throw new InvalidSpecException("launcherOptions.alloc", "job " + jobId + " is " + job.describe()
                        + ", not running; wait until it runs");
            }
            hosts = PbsParsers.execHosts(job.execHost());
            source = "exec_host " + job.execHost();
        }
        return onHosts(spec, hosts, "job " + jobId, source, "job");
    }

    /**
     * {@code --port auto} in an existing job: each node's listening sockets, read there by one command per node
     * started with the job's run command and written to a file in the experiment directory ({@link #listeners}), then
     * the lowest base port from the spec's up at which every node's shards, bus ports and {@code --ai} server ports
     * are free ({@link PortSearch}). Any socket listening on a port counts, whatever its address: the node picks its
     * shards' address only at launch. As a batch job the nodes are not known until the job runs, so {@code --port
     * auto} is refused there by name.
     */
    @Override
    public OrchestratorSpec choosePorts(OrchestratorSpec spec, Path experimentDir) {
        if (!spec.autoPort()) {
            return spec;
        }
        PbsOptions opts = PbsOptions.parse(spec.launcherOptions());
        if (opts.batch()) {
            throw noAutoPortInBatch("start inside an existing job (--alloc)");
        }
        Placement placement = place(spec);
        CommandRunner runner = runner(spec.launcherOptions());
        String jobId = allocation(opts);
        List<String> nodes = placement.nodes().stream().map(Placement.Node::host).distinct().toList();
        Map<String, Set<ListeningPorts.Listener>> listeners;
        try {
            listeners = listeners(runner, opts, jobId, nodes, experimentDir.resolve(spec.id()));
        } catch (NoAnswer e) {
            throw new InvalidSpecException("port", "--port auto reads each node's listening ports from "
                    + "/proc/net/tcp with the job's run command, which failed: " + e.getMessage() + "; give a fixed "
                    + "base port, for example --port " + OrchestratorSpec.DEFAULT_PORT);
        }
        return lowestFree(spec, placement, listeners, "node(s) " + String.join(",", nodes) + " of job " + jobId);
    }

    /** Core passes the experiment's directory ({@link #choosePorts(OrchestratorSpec, Path)}); else the working one. */
    @Override
    public OrchestratorSpec choosePorts(OrchestratorSpec spec) {
        return choosePorts(spec, Path.of("").toAbsolutePath());
    }

    /** A node gave no answer to a command this launcher ran there: the message names the node and why. */
    static final class NoAnswer extends LaunchException {
        NoAnswer(String message) {
            super(message);
        }
    }

    /**
     * Each node's listening sockets: one command per node started with the job's run command, side by side, each
     * writing its answer to a file in {@code answers} (a directory the nodes share), read here. Throws {@link NoAnswer}
     * naming the first node that did not answer.
     */
    private Map<String, Set<ListeningPorts.Listener>> listeners(CommandRunner runner, PbsOptions opts, String jobId,
                                                                List<String> nodes, Path answers) {
        Optional<Path> nodeFile = ownNodeFile(jobId);
        RunCommand run = chooseRunCommand(runner, opts, nodeFile.isPresent(), line -> { });
        Map<String, Integer> firstLines = nodeFile.map(f -> PbsParsers.nodeFileFirstLines(read(runner, f)))
                .orElse(Map.of());
        Map<String, Set<ListeningPorts.Listener>> listeners = new LinkedHashMap<>();
        String round = Long.toHexString(System.nanoTime()) + "-" + ProcessHandle.current().pid();
        Parallel.map(nodes, node -> {
            String index = nodeIndex(run, node, firstLines);
            PbsParsers.NodeAnswer a = onNode(runner, run, node, index, ListeningPorts.command(node), opts, jobId,
                    answers.resolve(".ports-" + node + "-" + round));
            Map<String, Set<ListeningPorts.Listener>> got = a.exitCode() == 0 ? ListeningPorts.parse(a.output())
                    : Map.of();
            if (!got.containsKey(node)) {
                throw new NoAnswer("node " + node + " of job " + jobId + " could not list its listening sockets: exit "
                        + "code " + a.exitCode() + (a.output().isBlank() ? "" : ", output: " + a.output().strip()));
            }
            return got;
        }).forEach(listeners::putAll);
        return listeners;
    }

    /** pbsdsh's node index: the node's first line in the job's node file. */
    private String nodeIndex(RunCommand run, String node, Map<String, Integer> firstLines) {
        String index = firstLines.containsKey(node) ? Integer.toString(firstLines.get(node)) : "";
        if (run == RunCommand.PBSDSH && index.isEmpty()) {
            throw new InvalidSpecException("launcherOptions.runCommand", "pbsdsh needs the job's node file, and "
                    + node + " is not in it (PBS_NODEFILE=" + env.getOrDefault("PBS_NODEFILE", "unset") + ")");
        }
        return index;
    }

    /** How long an answer file may take to appear here after its command returned (a shared file system's caching). */
    private static final Duration ANSWER_WAIT = Duration.ofSeconds(10);

    /**
     * Runs {@code command} on {@code node} with the run command and reads its answer from the file {@code answer}
     * ({@link PbsCommands#answerInFile}): OpenPBS's {@code pbsdsh} returns its task's exit status but not its output,
     * so no run command's output is relied on. The file is removed once read. Throws {@link NoAnswer} naming the node
     * when the run command fails, or when no whole answer appears within {@link #ANSWER_WAIT} after it returned.
     */
    private static PbsParsers.NodeAnswer onNode(CommandRunner runner, RunCommand run, String node, String index,
                                                List<String> command, PbsOptions opts, String jobId, Path answer) {
        Path partial = answer.resolveSibling(answer.getFileName() + ".tmp");
        try {
            CommandResult r = runner.run(PbsCommands.runOnNode(run, node, index,
                    PbsCommands.answerInFile(command, answer), opts.sshConfig()), COMMAND_TIMEOUT);
            if (!r.ok()) {
                throw new NoAnswer(run.binary() + " on node " + node + " of job " + jobId + " failed: "
                        + r.describe());
            }
            Backoff backoff = new Backoff(Deadline.after(ANSWER_WAIT), Duration.ofMillis(20), Duration.ofMillis(500));
            while (true) {
                Optional<PbsParsers.NodeAnswer> a = runner.readFile(answer, COMMAND_TIMEOUT)
                        .flatMap(PbsParsers.NodeAnswer::parse);
                if (a.isPresent()) {
                    return a.get();
                }
                if (!backoff.pause()) {
                    throw new NoAnswer("node " + node + " of job " + jobId + " did not answer: " + run.binary()
                            + " returned (exit code 0) but " + answer + " did not appear here within "
                            + ANSWER_WAIT.toSeconds() + " s; the experiment directory must be on a file system the "
                            + "nodes share");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NoAnswer("interrupted while waiting for node " + node + " of job " + jobId + " to answer");
        } finally {
            try {
                runner.deleteFiles(List.of(answer, partial), COMMAND_TIMEOUT);
            } catch (LaunchException e) {
                // a leftover answer file is harmless: the next round uses another name
            }
        }
    }

    /**
     * A fixed port already in use on a node of the job is refused before any shard starts, naming what holds it
     * where the node can tell: one command per node with the job's run command (about 0.7 s with ssh on the
     * testbed, handshakes included), and one more on that node only when a port is taken. A node that does not answer
     * fails the start here, naming it: its shard could not be started there either. (As a batch job the nodes are not
     * known before it runs: each shard's wrapper checks its own ports.)
     */
    private void refuseTakenPorts(LaunchPlan plan, PbsOptions opts) {
        CommandRunner runner = runner(plan.spec().launcherOptions());
        String jobId = allocation(opts);
        List<String> nodes = plan.shards().stream().map(ShardPlan::host).distinct().toList();
        Map<String, Set<ListeningPorts.Listener>> listeners;
        try {
            listeners = listeners(runner, opts, jobId, nodes, plan.dir());
        } catch (NoAnswer e) {
            throw new LaunchException("cannot check the ports of '" + plan.id() + "' before its shards start: "
                    + e.getMessage(), e);
        }
        Optional<PortSearch.Taken> taken = firstTaken(plan, listeners);
        if (taken.isPresent()) {
            String node = taken.get().host();
            int port = taken.get().port();
            Optional<Path> nodeFile = ownNodeFile(jobId);
            RunCommand run = chooseRunCommand(runner, opts, nodeFile.isPresent(), line -> { });
            Map<String, Integer> firstLines = nodeFile.map(f -> PbsParsers.nodeFileFirstLines(read(runner, f)))
                    .orElse(Map.of());
            Optional<String> holder;
            try {
                PbsParsers.NodeAnswer who = onNode(runner, run, node, nodeIndex(run, node, firstLines),
                        ListeningPorts.owners(port), opts, jobId, plan.dir().resolve(".holder-" + node + "-" + port
                                + "-" + ProcessHandle.current().pid()));
                holder = who.exitCode() == 0 ? ListeningPorts.heldBy(who.output()) : Optional.empty();
            } catch (NoAnswer e) {
                holder = Optional.empty(); // the port is taken all the same
            }
            throw PortSearch.taken(plan, port, "node " + node + " of job " + jobId, holder);
        }
    }

    private String allocation(PbsOptions opts) {
        return allocation(opts.alloc(), "PBS_JOBID", "a PBS job", "run inside qsub -I or a job script, pass the job's "
                + "id");
    }

    /** {@code PBS_NODEFILE}, when this process runs inside job {@code jobId} itself. */
    private Optional<Path> ownNodeFile(String jobId) {
        String id = env.get("PBS_JOBID");
        String file = env.get("PBS_NODEFILE");
        if (id == null || file == null || file.isBlank() || !PbsParsers.sameJob(id, jobId)) {
            return Optional.empty();
        }
        return Optional.of(Path.of(file));
    }

    private static String read(CommandRunner runner, Path file) {
        return runner.readFile(file, COMMAND_TIMEOUT).orElseThrow(() -> new LaunchException("the job's node file "
                + file + " does not exist on " + runner.where()));
    }

    @Override
    public void preflight(LaunchPlan plan) {
        PbsOptions opts = PbsOptions.parse(plan.spec().launcherOptions());
        if (opts.dialect().isEmpty()) {
            detect(runner(plan.spec().launcherOptions())); // fails when qstat cannot run at all
        }
        if (!opts.batch() && !plan.spec().autoPort()) {
            refuseTakenPorts(plan, opts);
        }
    }

    /** A dialect and why it was chosen, for progress lines. */
    record Detected(Dialect dialect, String why) {
    }

    /**
     * The dialect {@code qstat --version} shows. Slurm's Torque-style wrapper names neither ("Unknown option"); it
     * speaks Torque's {@code qstat -f} text, so an answer without a version means Torque, said so.
     */
    static Detected detect(CommandRunner runner) {
        CommandResult r;
        try {
            r = runner.run(PbsCommands.version(), COMMAND_TIMEOUT);
        } catch (LaunchException e) {
            throw new LaunchException("PBS commands do not work on " + runner.where() + ": " + e.getMessage()
                    + "; is PBS installed and qstat on PATH?", e);
        }
        String both = r.stdout() + "\n" + r.stderr();
        Optional<Dialect> d = Dialect.fromVersion(both);
        String first = both.strip().lines().findFirst().orElse("(nothing)");
        return d.map(x -> new Detected(x, "qstat --version: " + first))
                .orElseGet(() -> new Detected(Dialect.TORQUE, "qstat --version named no PBS version (\"" + first
                        + "\"); assuming Torque's qstat -f text; set dialect=pro to override"));
    }

    @Override
    public List<LaunchedShard> start(LaunchPlan plan, LaunchContext ctx) {
        PbsOptions opts = PbsOptions.parse(plan.spec().launcherOptions());
        CommandRunner runner = runner(plan.spec().launcherOptions());
        Dialect dialect;
        if (opts.dialect().isPresent()) {
            dialect = opts.dialect().get();
            ctx.progress().accept("PBS dialect " + dialect.option() + " (set by dialect=" + dialect.option() + ")");
        } else {
            Detected d = detect(runner);
            dialect = d.dialect();
            ctx.progress().accept("PBS dialect " + dialect.option() + " (" + d.why() + ")");
        }
        Optional<Path> nodeFile = opts.batch() ? Optional.empty() : ownNodeFile(allocation(opts));
        RunCommand run = chooseRunCommand(runner, opts, opts.batch() || nodeFile.isPresent(), ctx.progress());
        return BatchStart.run(plan, ctx, new Start(plan, opts, runner, dialect, run, nodeFile));
    }

    /**
     * PBS's side of one launch ({@link BatchStart}): each shard's wrapper started on its node by the run command in an
     * existing job, or all of them by a qsub job of their own; in the dialect and with the run command chosen for it.
     */
    private final class Start extends BatchDialect.Base<ShardReport> {
        private final PbsOptions opts;
        private final Dialect dialect;
        private final RunCommand run;
        private final Optional<Path> nodeFile;
        private Map<String, Integer> firstLines;

        Start(LaunchPlan plan, PbsOptions opts, CommandRunner runner, Dialect dialect, RunCommand run,
              Optional<Path> nodeFile) {
            super(plan, runner, opts.batch(), new BatchDialect.Words(run.binary(), "its node",
                    "everything this launch started was stopped"), PbsScripts.batchPath(plan),
                    PbsScripts.batchOutput(plan));
            this.opts = opts;
            this.dialect = dialect;
            this.run = run;
            this.nodeFile = nodeFile;
        }

        @Override
        public String cancelled() {
            return "deleted (qdel)";
        }

        /** The port check each wrapper runs, the wrappers, the lease guard (--lease) and the qsub script (--batch). */
        @Override
        public Map<Path, String> scripts() {
            String binary = BatchScripts.serverBinary(plan);
            Optional<String> itf = plan.spec().interfaces().stream().findFirst();
            Map<Path, String> out = new LinkedHashMap<>();
            out.put(plan.dir().resolve(ListeningPorts.HELD_SCRIPT), ListeningPorts.heldScript());
            for (ShardPlan s : plan.shards()) {
                out.put(PbsScripts.wrapperPath(s), PbsScripts.wrapper(plan, s, itf, binary));
            }
            for (ModelServerPlan m : plan.modelServers()) {
                out.put(BatchModelServers.wrapperPath(m), PbsScripts.modelServer(plan, m));
            }
            if (plan.spec().lease().isPresent()) {
                // Started by each wrapper before it execs the server; the lease file itself is core's.
                out.put(LeaseGuard.path(plan), LeaseGuard.render(plan));
            }
            if (opts.batch()) {
                out.put(PbsScripts.batchPath(plan), PbsScripts.batch(plan, opts, dialect, run));
            }
            return out;
        }

        @Override
        public List<Path> stale(ShardPlan s) {
            return plan.spec().lease().isPresent() ? List.of(BatchScripts.leaseOutput(s)) : List.of();
        }

        @Override
        public String submit(Duration timeout) {
            CommandResult r = runner.run(PbsCommands.qsub(PbsScripts.batchPath(plan), PbsScripts.batchOutput(plan)),
                    timeout);
            if (!r.ok()) {
                throw new LaunchException("qsub rejected the batch job of '" + plan.id() + "': " + r.describe());
            }
            try {
                return PbsParsers.jobId(r.stdout());
            } catch (IllegalArgumentException e) {
                throw new LaunchException("qsub accepted the batch job of '" + plan.id() + "' but " + e.getMessage()
                        + ": " + r.describe(), e);
            }
        }

        @Override
        public Map<String, String> submittedHandle() {
            return Map.of(RUN, run.binary(), DIALECT, dialect.option());
        }

        @Override
        public Optional<BatchDialect.JobState> job(String jobId) {
            return PbsParsers.find(qstat(runner, dialect, List.of(jobId)), jobId).map(this::state);
        }

        /** OpenPBS keeps a job that can never run queued for ever: waiting out the timeout would only hide why. */
        private BatchDialect.JobState state(Job j) {
            String comment = j.comment();
            Optional<String> never = j.neverRuns() ? Optional.of("PBS says: " + comment
                    + PbsParsers.shortfall(comment).map(n -> " (" + n + ")").orElse("") + ". The job was deleted "
                    + "(qdel). Ask for what the queue's nodes have: fewer --nodes, --per-node or --cpus, or another "
                    + "--queue") : Optional.empty();
            return new BatchDialect.JobState(j.running(), j.waiting(), j.execHost(), j.describe(), never, "");
        }

        /** The job stopped running or left the queue: its state, exit status and output. */
        @Override
        public RuntimeException ended(String jobId, String when, Optional<BatchDialect.JobState> job) {
            String state = job.map(BatchDialect.JobState::describe).orElse("it left the queue; exit status unknown, as "
                    + "the PBS server keeps no history of finished jobs unless job_history_enable is set");
            ShardPlan first = plan.shards().get(0);
            return new ShardStartException("batch job " + jobId + " of '" + plan.id() + "' ended " + when + " ("
                    + state + ").\n" + runner.logTail(PbsScripts.batchOutput(plan), 10) + "\n"
                    + runner.logTail(BatchScripts.consoleLog(first), 5) + "\n" + runner.logTail(first.logPath(), 5));
        }

        @Override
        public void checkBatch(String jobId, List<Optional<LaunchedShard>> landed) {
            Optional<BatchDialect.JobState> job = job(jobId);
            if (job.isEmpty() || !job.get().running()) {
                throw ended(jobId, "while its shards were starting", job);
            }
        }

        /** The job's own trap ends shards it started over ssh. */
        @Override
        public void cancelJob(String jobId) throws InterruptedException {
            runner.run(PbsCommands.qdel(List.of(jobId)), COMMAND_TIMEOUT);
            awaitJobsGone(runner, dialect, List.of(jobId), Deadline.after(QDEL_WAIT));
        }

        @Override
        public String allocation() {
            return PbsLauncher.this.allocation(opts);
        }

        @Override
        public Detached spawn(ShardPlan s, String jobId, Duration timeout) {
            return runner.spawn(PbsCommands.runShard(run, s.host(), index(s.host()), PbsScripts.wrapperPath(s),
                    opts.sshConfig()), s.workDir(), BatchScripts.consoleLog(s), timeout);
        }

        /**
         * A shard just before its run command is spawned ({@code runCommand} empty) and the moment that client exists
         * (with its pid and start): were this process SIGKILLed before the shard reports, {@code db cleanup} ends
         * that client and with it the shard ({@link #WRAPPER}). Not behind a login node, whose clients are there.
         */
        @Override
        public Optional<LaunchedShard> early(ShardPlan s, Optional<Detached> runCommand, String jobId) {
            if (runner.recorded().containsKey(Transports.REMOTE)) {
                return Optional.empty();
            }
            Map<String, String> handle = new LinkedHashMap<>(runner.recorded());
            handle.put(JOB, jobId);
            handle.put(MODE, MODE_ALLOC);
            handle.put(NODE, s.host());
            handle.put(RUN, run.binary());
            handle.put(DIALECT, dialect.option());
            handle.put(WRAPPER, PbsScripts.wrapperPath(s).toString());
            opts.sshConfig().ifPresent(c -> handle.put("sshConfig", c.toString()));
            TlsFiles.record(handle, plan.tls());
            Optional<Long> pid = runCommand.flatMap(Detached::pid);
            Optional<Instant> started = pid.flatMap(ProcessHandle::of).flatMap(h -> h.info().startInstant());
            return Optional.of(new LaunchedShard(s.index(), s.name(), s.host(), s.port(), pid, started, handle));
        }

        /** The model server's wrapper path, which its client's command line here names ({@link #AI_WRAPPER}). */
        @Override
        public Map<String, String> earlyModelServer(ModelServerPlan m, String jobId) {
            return runner.recorded().containsKey(Transports.REMOTE) ? Map.of()
                    : Map.of(AI_WRAPPER, BatchModelServers.wrapperPath(m).toString());
        }

        /** pbsdsh's index of {@code host}: its first line in the job's node file (empty for the other commands). */
        private String index(String host) {
            if (firstLines == null) {
                firstLines = nodeFile.map(f -> PbsParsers.nodeFileFirstLines(read(runner, f))).orElse(Map.of());
            }
            String index = firstLines.containsKey(host) ? Integer.toString(firstLines.get(host)) : "";
            if (run == RunCommand.PBSDSH && index.isEmpty()) {
                throw new InvalidSpecException("launcherOptions.runCommand", "pbsdsh needs the job's node file, and "
                        + host + " is not in it (PBS_NODEFILE=" + env.getOrDefault("PBS_NODEFILE", "unset") + ")");
            }
            return index;
        }

        /** A model server, started on its node by the run command like a shard ({@link PbsScripts#modelServer}). */
        @Override
        public Detached spawnModelServer(ModelServerPlan m, String jobId, Duration timeout) {
            return runner.spawn(PbsCommands.runShard(run, m.host(), index(m.host()), BatchModelServers.wrapperPath(m),
                    opts.sshConfig()), m.workDir(), m.console(), timeout);
        }

        @Override
        public Map<String, String> modelServerHandle(BatchModelServers.Report r, Optional<Detached> runCommand) {
            return runCommand.flatMap(Detached::pid).map(pid -> Map.of(AI_CLIENT, Long.toString(pid)))
                    .orElse(Map.of());
        }

        @Override
        public String started(int count, String jobId) {
            return "started " + count + " shard(s) with " + run.binary() + " in job " + jobId;
        }

        /** The servers an ssh run command started (not the job's processes), then this machine's run commands. */
        @Override
        public void cancelInAllocation(String jobId, List<LaunchedShard> landed, List<Detached> local)
                throws InterruptedException {
            killOnNodes(runner, landed);
            for (Detached p : local) {
                p.terminate(Duration.ofSeconds(5));
            }
        }

        @Override
        public Optional<ShardReport> readReport(ShardPlan s) {
            return PbsLauncher.readReport(runner, s);
        }

        @Override
        public void record(ShardPlan s, ShardReport r, Map<String, String> handle, Optional<Detached> runCommand) {
            handle.put(RUN, run.binary());
            handle.put(DIALECT, dialect.option());
            r.pid().ifPresent(p -> handle.put(NODE_PID, Long.toString(p)));
            opts.sshConfig().ifPresent(c -> handle.put("sshConfig", c.toString()));
            TlsFiles.record(handle, plan.tls()); // stop's "still answers?" check must speak TLS to a TLS shard
        }

        /**
         * In a job, the pid is this machine's run-command client (pbsdsh, mpiexec, ssh), which stop can end; one
         * started on a login node has no pid here, and is ended there with its shard's server.
         */
        @Override
        public boolean recordsRunCommand() {
            return true;
        }

        @Override
        public String node(ShardReport r) {
            return r.node();
        }

        @Override
        public String upAs(LaunchedShard ls, String jobId) {
            return ls.address() + " (node " + ls.handle().get(NODE) + ", " + run.binary() + ")";
        }

    }

    /**
     * {@code runCommand}, or for {@code auto} the first of pbsdsh, mpiexec, ssh that {@code which} finds where
     * scheduler commands run. Outside the job's own environment only ssh can reach its nodes.
     */
    private static RunCommand chooseRunCommand(CommandRunner runner, PbsOptions opts, boolean insideJob,
                                               Consumer<String> progress) {
        if (opts.runCommand().isPresent()) {
            RunCommand r = opts.runCommand().get();
            if (r == RunCommand.PBSDSH && !insideJob) {
                throw new InvalidSpecException("launcherOptions.runCommand", "pbsdsh only works inside the job "
                        + "(PBS_JOBID and PBS_NODEFILE of job " + opts.alloc().orElse("?") + " are not set here); "
                        + "run inside the job or use runCommand=ssh");
            }
            progress.accept("run command " + r.binary() + " (set by runCommand=" + r.binary() + ")");
            return r;
        }
        if (!insideJob) {
            progress.accept("run command ssh (auto: outside the job's environment only ssh reaches its nodes)");
            return RunCommand.SSH;
        }
        List<String> names = RunCommand.AUTO_ORDER.stream().map(RunCommand::binary).toList();
        CommandResult r = runner.run(PbsCommands.which(names), COMMAND_TIMEOUT);
        Set<String> found = new LinkedHashSet<>();
        for (String line : r.stdout().split("\n")) {
            String name = Path.of(line.strip().isEmpty() ? "/" : line.strip()).getFileName() == null ? ""
                    : Path.of(line.strip()).getFileName().toString();
            if (names.contains(name)) {
                found.add(name);
            }
        }
        for (RunCommand c : RunCommand.AUTO_ORDER) {
            if (found.contains(c.binary())) {
                progress.accept("run command " + c.binary() + " (auto: found " + String.join(", ", found) + " on "
                        + runner.where() + "; set runCommand= to choose)");
                return c;
            }
        }
        throw new LaunchException("no run command found on " + runner.where() + ": none of " + names + " is on PATH "
                + "(" + r.describe() + "); install one or set runCommand=");
    }

    static Optional<ShardReport> readReport(CommandRunner runner, ShardPlan s) {
        Optional<String> text = Landing.unlessFailed(runner.readFile(BatchScripts.reportPath(s), COMMAND_TIMEOUT));
        try {
            return text.map(ShardReport::parse);
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // renamed into place while we looked; read it next round
        }
    }

    /**
     * The jobs among {@code jobIds} PBS still knows, from one qstat. "Unknown Job Id" (exit 153) means gone; any
     * other failure means PBS could not be asked, which is not the same and is thrown.
     */
    private static List<Job> qstat(CommandRunner runner, Dialect dialect, List<String> jobIds) {
        CommandResult r = runner.run(PbsCommands.qstat(dialect, jobIds), COMMAND_TIMEOUT);
        List<Job> all;
        try {
            all = dialect == Dialect.PRO ? PbsParsers.qstatJson(r.stdout()) : PbsParsers.qstatText(r.stdout());
        } catch (IllegalArgumentException e) {
            throw new LaunchException("cannot read qstat's answer (" + dialect.option() + " dialect; set dialect= if "
                    + "it is wrong): " + e.getMessage() + "\n" + r.describe(), e);
        }
        if (!r.ok() && all.isEmpty() && !unknownJob(r)) {
            throw new LaunchException("cannot query PBS jobs " + jobIds + " on " + runner.where() + ": " + r.describe());
        }
        return all.stream().filter(j -> jobIds.stream().anyMatch(id -> PbsParsers.sameJob(j.id(), id))).toList();
    }

    static boolean unknownJob(CommandResult r) {
        String both = r.stdout() + r.stderr();
        return r.exitCode() == 153 || both.contains("Unknown Job Id") || both.contains("Job has finished");
    }

    /** Waits until none of {@code jobIds} is queued, running or exiting; false at the deadline. */
    private static boolean awaitJobsGone(CommandRunner runner, Dialect dialect, List<String> jobIds, Deadline deadline)
            throws InterruptedException {
        if (jobIds.isEmpty()) {
            return true;
        }
        Backoff backoff = new Backoff(deadline, Duration.ofMillis(100), Duration.ofMillis(1000));
        while (true) {
            try {
                if (qstat(runner, dialect, jobIds).stream().allMatch(Job::finished)) {
                    return true;
                }
            } catch (LaunchException e) {
                // cannot tell right now; ask again until the deadline
            }
            if (!backoff.pause()) {
                return false;
            }
        }
    }

    private static Dialect dialectOf(LaunchedShard s) {
        return Dialect.fromOption(s.handle().getOrDefault(DIALECT, "")).orElse(Dialect.TORQUE);
    }

    /**
     * The qsub script, the first shard's wrapper and (--ai) the first model server's, as {@link #start} would write
     * them. Pure: with {@code dialect=auto} or {@code runCommand=auto} it shows PBS Pro and mpiexec (the script's
     * header says which), since detecting them needs the machine.
     */
    @Override
    public Map<String, String> renderedScripts(LaunchPlan plan) {
        PbsOptions opts = PbsOptions.parse(plan.spec().launcherOptions());
        Map<String, String> out = new LinkedHashMap<>();
        ShardPlan s = plan.shards().get(0);
        String binary = BatchScripts.serverBinary(plan);
        if (opts.batch()) {
            out.put(plan.dir().relativize(PbsScripts.batchPath(plan)).toString(), PbsScripts.batch(plan, opts,
                    opts.dialect().orElse(Dialect.PRO), opts.runCommand().orElse(RunCommand.MPIEXEC)));
        }
        if (plan.spec().lease().isPresent()) {
            out.put(plan.dir().relativize(LeaseGuard.path(plan)).toString(), LeaseGuard.render(plan));
        }
        out.put(plan.dir().relativize(PbsScripts.wrapperPath(s)).toString(),
                PbsScripts.wrapper(plan, s, plan.spec().interfaces().stream().findFirst(), binary));
        plan.modelServers().stream().findFirst().ifPresent(m -> out.put(plan.dir().relativize(
                BatchModelServers.wrapperPath(m)).toString(), PbsScripts.modelServer(plan, m)));
        out.put(ListeningPorts.HELD_SCRIPT, ListeningPorts.heldScript()); // run by each wrapper before its server
        return out;
    }

    @Override
    protected Map<Integer, Liveness> probe(CommandRunner runner, List<LaunchedShard> shards) {
        Map<Integer, Liveness> out = new LinkedHashMap<>();
        Optional<List<Job>> known = knownJobs(runner, shards);
        for (LaunchedShard s : shards) {
            String job = s.handle().get(JOB);
            if (job == null || known.isEmpty()) {
                out.put(s.index(), Liveness.UNKNOWN);
                continue;
            }
            Optional<Job> j = PbsParsers.find(known.get(), job);
            // PBS sees the job, not each shard in it: a running job says nothing about one shard. In a running job
            // a shard is gone when its port refuses connections (nothing listens there: killed, crashed), or, in an
            // existing job, when the run command's client on this machine, which lives exactly as long as its
            // server, has exited and the shard does not answer. One that accepts but does not answer is hung, not
            // gone (the health check says so). A shard started over ssh from outside the job is not the job's
            // process: it can outlive the job, and one that still answers is not called gone (the health check then
            // shows it serving; db stop ends it).
            boolean jobOver = j.isEmpty() || j.get().finished();
            boolean gone = jobOver ? !Ping.answers(s.host(), s.port(), (int) PING_TIMEOUT.toMillis(),
                    TlsFiles.access(s)) : refuses(s.host(), s.port()) || clientGone(s);
            out.put(s.index(), gone ? Liveness.GONE : Liveness.UNKNOWN);
        }
        return out;
    }

    /**
     * The jobs of the shards that PBS still lists, from one qstat per dialect ({@code qstat -f -F json -x} for PBS
     * Pro, so that a finished job's history is seen where the server keeps it); empty when PBS could not be asked.
     */
    private static Optional<List<Job>> knownJobs(CommandRunner runner, List<LaunchedShard> shards) {
        Map<Dialect, List<String>> byDialect = new LinkedHashMap<>();
        for (LaunchedShard s : shards) {
            String job = s.handle().get(JOB);
            if (job != null && !byDialect.computeIfAbsent(dialectOf(s), d -> new ArrayList<>()).contains(job)) {
                byDialect.get(dialectOf(s)).add(job);
            }
        }
        List<Job> known = new ArrayList<>();
        try {
            for (Map.Entry<Dialect, List<String>> e : byDialect.entrySet()) {
                known.addAll(qstat(runner, e.getKey(), e.getValue()));
            }
        } catch (LaunchException e) {
            return Optional.empty();
        }
        return Optional.of(known);
    }

    /**
     * Each ended job of the shards in PBS's words: its state, exit status (with what PBS's own codes mean: 271 is
     * SIGTERM, as after {@code qdel}; -29 walltime) and the server's comment ({@code ... and terminated by
     * USER@HOST}); a job PBS no longer lists ended with its exit status unknown, never a success. Jobs still queued or
     * running are not named; empty when PBS cannot be asked.
     */
    @Override
    public Optional<String> endedJobs(List<LaunchedShard> shards) {
        if (shards.isEmpty()) {
            return Optional.empty();
        }
        Optional<List<Job>> known = knownJobs(runner(shards.get(0).handle()), shards);
        if (known.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> said = new LinkedHashMap<>();
        for (LaunchedShard s : shards) {
            String id = s.handle().get(JOB);
            if (id == null || said.containsKey(id)) {
                continue;
            }
            String which = (MODE_BATCH.equals(s.handle().get(MODE)) ? "batch job " : "job ") + id;
            Optional<Job> j = PbsParsers.find(known.get(), id);
            if (j.isEmpty()) {
                said.put(id, which + " is no longer listed by PBS: it ended, exit status unknown (the server keeps "
                        + "finished jobs only with job_history_enable=True)");
            } else if (j.get().finished()) {
                said.put(id, which + " " + j.get().describe());
            }
        }
        return said.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", said.values()));
    }

    @Override
    public void stop(List<LaunchedShard> shards, Duration grace) {
        Map<String, Dialect> batchJobs = new LinkedHashMap<>();
        List<LaunchedShard> inJob = new ArrayList<>();
        for (LaunchedShard s : shards) {
            String job = s.handle().get(JOB);
            if (job != null && MODE_BATCH.equals(s.handle().get(MODE))) {
                batchJobs.put(job, dialectOf(s));
            } else if (MODE_ALLOC.equals(s.handle().get(MODE))) {
                inJob.add(s);
            }
        }
        if (shards.isEmpty()) {
            return;
        }
        CommandRunner runner = runner(shards.get(0).handle());
        // Shards recorded before they reported (a start killed mid-way): their clients here end first, so that a
        // server still on its way up never comes up after this stop.
        endUnreportedClients(inJob);
        inJob.forEach(s -> runner.expose(s.host(), s.port()));
        try {
            if (!inJob.isEmpty() && !awaitNoPong(inJob, Deadline.after(grace))) {
                killOnNodes(runner, inJob);
                for (LaunchedShard s : inJob) {
                    endLocalClient(s);
                }
                if (!awaitNoPong(inJob, Deadline.after(Duration.ofSeconds(10)))) {
                    throw new LaunchException("shards still answer after being killed: " + inJob.stream()
                            .map(LaunchedShard::address).toList() + "; end them by hand on their nodes");
                }
            }
            endModelServerClients(inJob);
            for (Map.Entry<String, Dialect> e : batchJobs.entrySet()) {
                List<String> job = List.of(e.getKey());
                // Core has sent SHUTDOWN NOSAVE: the run commands return, the script's wait ends, the job completes.
                if (!awaitJobsGone(runner, e.getValue(), job, Deadline.after(grace))) {
                    CommandResult r = runner.run(PbsCommands.qdel(job), COMMAND_TIMEOUT);
                    if (!r.ok() && !unknownJob(r)) {
                        throw new LaunchException("qdel failed for batch job " + e.getKey() + ": " + r.describe());
                    }
                    if (!awaitJobsGone(runner, e.getValue(), job, Deadline.after(QDEL_WAIT))) {
                        throw new LaunchException("PBS still lists job " + e.getKey() + " " + QDEL_WAIT.toSeconds()
                                + " s after qdel; check qstat " + e.getKey() + " and qdel -W force it by hand");
                    }
                }
            }
        } catch (InterruptedException e) {
            if (!batchJobs.isEmpty()) {
                runner.run(PbsCommands.qdel(List.copyOf(batchJobs.keySet())), COMMAND_TIMEOUT);
            }
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Under {@code --ai}: whether each shard's model server runs. In an existing job started from this machine, by the
     * run command's client that carries it here ({@link #AI_CLIENT}: pbsdsh, mpiexec and ssh return when it exits).
     * Where no client here can tell (a batch job's model servers are tasks of the job's script; those started through
     * a login node have their client there; a record without one), by asking each shard's module through the data
     * plane ({@link ModelServerProbe}: {@code AI.INFO} without a key, logged in with the plan's credentials and TLS,
     * through the login node's forwarded ports under {@code --remote}): alive when the module's model server answers,
     * gone when the module says it cannot reach it, unknown when the shard itself cannot be asked.
     */
    @Override
    public Map<Integer, Liveness> probeModelServers(LaunchPlan plan, List<LaunchedShard> shards) {
        Map<Integer, Liveness> out = new java.util.TreeMap<>();
        List<LaunchedShard> throughModule = new ArrayList<>();
        for (LaunchedShard s : shards) {
            if (!s.handle().containsKey(AiPlanner.HANDLE_SOCKET)) {
                continue;
            }
            String client = s.handle().get(AI_CLIENT);
            if (client == null || !client.matches("[0-9]+") || s.handle().containsKey(Transports.REMOTE)) {
                throughModule.add(s);
                continue;
            }
            boolean alive = ProcessHandle.of(Long.parseLong(client)).filter(ProcessHandle::isAlive)
                    .filter(h -> !exited(h.pid())).flatMap(h -> h.info().commandLine())
                    .map(c -> c.contains("model-server-")).orElse(false);
            out.put(s.index(), alive ? Liveness.ALIVE : Liveness.GONE);
        }
        if (!throughModule.isEmpty()) {
            try {
                reach(throughModule); // --remote: the shards' ports forwarded over the login node's session
            } catch (RuntimeException e) {
                // the login node cannot be reached now: the probe below finds the shards unreachable, so unknown
            }
            out.putAll(ModelServerProbe.probe(throughModule, plan.access(), ModelServerProbe.TIMEOUT));
        }
        return out;
    }

    /**
     * Under {@code --ai} and {@code --restart on-failure} (in an existing job, ssh run command: plan time refuses the
     * rest): each model server found gone ({@link #probeModelServers}) is started again on the node it ran on, by its
     * wrapper over ssh as the start did (its socket path as before, so the node's modules reconnect on their next model
     * command and push their models again), and awaited until ready; its shards then record the new one (its pid on
     * the node, its ssh client here). Not judged now: a model server whose shards' probe is unknown, and one none of
     * whose shards answers (its wrapper's watch would stop it at once, its node's shards having ended: the shard's
     * restart comes first, the next check starts the model server).
     */
    @Override
    public List<LaunchedShard> reviveModelServers(LaunchPlan plan, List<LaunchedShard> shards, LaunchContext ctx) {
        if (plan.modelServers().isEmpty() || shards.isEmpty()) {
            return List.of();
        }
        Map<Integer, Liveness> live = probeModelServers(plan, shards);
        return BatchModelServers.revive(plan, shards, live,
                // its node's shards are down: they are restarted first
                served -> served.stream().noneMatch(s -> Ping.answers(s.host(), s.port(),
                        (int) PING_TIMEOUT.toMillis(), TlsFiles.access(s))),
                (m, shard) -> startModelServerAgain(plan, m, shard, ctx));
    }

    /**
     * Model server {@code m}, gone, started again by its wrapper over ssh on the node {@code shard} records it ran on,
     * in its job; the new handle entries of its shards. Its wrapper's watch ends it with its node's shards, or with its
     * ssh session, as at the start.
     */
    private Map<String, String> startModelServerAgain(LaunchPlan plan, ModelServerPlan m, LaunchedShard shard,
                                                      LaunchContext ctx) {
        Map<String, String> was = shard.handle();
        String node = was.getOrDefault(AiPlanner.HANDLE_NODE, was.get(NODE));
        if (node == null || !MODE_ALLOC.equals(was.get(MODE)) || !RunCommand.SSH.binary().equals(was.get(RUN))) {
            throw new ShardStartException("cannot start the --ai model server " + m.index() + " of '" + plan.id()
                    + "' again: only one started over ssh in an existing job can be (its shard " + shard.index()
                    + " records mode " + was.get(MODE) + ", run command " + was.get(RUN) + ", node " + node
                    + "); model commands fail meanwhile, data commands work; stop the orchestrator and start it "
                    + "again");
        }
        CommandRunner runner = runner(was);
        Optional<Path> sshConfig = Optional.ofNullable(was.get("sshConfig")).map(Path::of);
        return BatchModelServers.startAgain(plan, runner, m, COMMAND_TIMEOUT,
                () -> runner.spawn(PbsCommands.runShard(RunCommand.SSH, node, "", BatchModelServers.wrapperPath(m),
                        sshConfig), m.workDir(), m.console(), COMMAND_TIMEOUT), "ssh client",
                "its ssh client was ended; the shards keep serving data", ctx,
                (r, ssh) -> ssh.pid().filter(p -> !runner.recorded().containsKey(Transports.REMOTE))
                        .map(p -> Map.of(AI_CLIENT, Long.toString(p))).orElse(Map.of()),
                r -> "pid " + r.pid() + ", ssh");
    }

    /**
     * Under {@code --ai} in an existing job, once the shards are gone: each model server's watch stops it within a
     * second or two (its node's shards have ended), and its run command's client here returns. Each recorded client is
     * waited for, then ended (pbsdsh and mpiexec end their task; ssh its session, which the watch also follows).
     */
    private static void endModelServerClients(List<LaunchedShard> shards) throws InterruptedException {
        Set<Long> pids = new LinkedHashSet<>();
        shards.stream().map(s -> s.handle().get(AI_CLIENT)).filter(p -> p != null && p.matches("[0-9]+"))
                .forEach(p -> pids.add(Long.parseLong(p)));
        List<ProcessHandle> left = new ArrayList<>();
        for (long pid : pids) {
            ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(h -> h.info().commandLine()
                    .map(c -> c.contains("model-server-")).orElse(false)).ifPresent(left::add);
        }
        Backoff backoff = new Backoff(Deadline.after(Duration.ofSeconds(15)), Duration.ofMillis(50),
                Duration.ofMillis(500));
        while (left.stream().anyMatch(ProcessHandle::isAlive)) {
            if (!backoff.pause()) {
                break;
            }
        }
        left.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroy);
    }

    /**
     * Ends this machine's run-command clients of shards recorded before they reported ({@link #WRAPPER}), and of their
     * nodes' model servers ({@link #AI_WRAPPER}): the one of a recorded pid if it still is that client, else each
     * process of the run command's name whose command line names the wrapper; then waits (15 s at most) until they
     * have exited.
     */
    static void endUnreportedClients(List<LaunchedShard> shards) {
        List<ProcessHandle> ended = new ArrayList<>();
        for (LaunchedShard s : shards) {
            String wrapper = s.handle().get(WRAPPER);
            if (wrapper == null) {
                continue;
            }
            String run = s.handle().getOrDefault(RUN, "");
            if (s.pid().isPresent()) {
                localClient(s).ifPresent(ended::add);
            } else {
                ended.addAll(clientsNaming(run, wrapper));
            }
            String ai = s.handle().get(AI_WRAPPER);
            if (ai != null) {
                ended.addAll(clientsNaming(run, ai));
            }
        }
        ended.forEach(ProcessHandle::destroy);
        try {
            java.util.concurrent.CompletableFuture.allOf(ended.stream().map(ProcessHandle::onExit)
                    .toArray(java.util.concurrent.CompletableFuture[]::new)).get(15, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // one still there at the deadline: the awaits of stop below report what is left
        }
    }

    /**
     * Whether a process's executable {@code command} (as {@link ProcessHandle.Info#command} gives it) is the run
     * command {@code run}: its last path element. Any string is taken: Linux reports {@code /} for some processes (seen
     * beside running containers), which has no file name.
     */
    static boolean runs(String command, String run) {
        return !run.isEmpty() && command.substring(command.lastIndexOf('/') + 1).equals(run);
    }

    /** This machine's processes of {@code run} (ssh, pbsdsh, mpiexec) whose command line names {@code wrapper}. */
    private static List<ProcessHandle> clientsNaming(String run, String wrapper) {
        return ProcessHandle.allProcesses().filter(h -> h.info().command().map(c -> runs(c, run)).orElse(false))
                .filter(h -> h.info().commandLine().map(c -> c.contains(wrapper)).orElse(false)).toList();
    }

    private static boolean awaitNoPong(List<LaunchedShard> shards, Deadline deadline) throws InterruptedException {
        Backoff backoff = new Backoff(deadline, Duration.ofMillis(50), Duration.ofMillis(500));
        while (true) {
            // A TLS shard closes a plain-text PING without a word, which would look like "gone": use its CA. Each
            // check gets its full timeout, not what is left of the grace: a TLS handshake cut short is no proof of
            // a shard gone (the deadline still bounds the rounds).
            if (shards.stream().noneMatch(s -> Ping.answers(s.host(), s.port(), (int) PING_TIMEOUT.toMillis(),
                    TlsFiles.access(s)))) {
                return true;
            }
            if (!backoff.pause()) {
                return false;
            }
        }
    }

    /** Ends, over ssh, the servers an ssh run command started: they are not the job's processes. */
    static void killOnNodes(CommandRunner runner, List<LaunchedShard> shards) {
        for (LaunchedShard s : shards) {
            String pid = s.handle().get(NODE_PID);
            if (RunCommand.SSH.binary().equals(s.handle().get(RUN)) && pid != null && s.handle().containsKey(NODE)) {
                Optional<Path> cfg = Optional.ofNullable(s.handle().get("sshConfig")).map(Path::of);
                runner.run(PbsCommands.sshKill(cfg, s.handle().get(NODE), Long.parseLong(pid)), COMMAND_TIMEOUT);
            }
        }
    }

    /** Ends this machine's run-command client of a shard (pbsdsh, mpiexec: they end their task), if it is still ours. */
    private static void endLocalClient(LaunchedShard s) {
        localClient(s).ifPresent(ProcessHandle::destroy);
    }

    /** The shard's run-command client on this machine, if its recorded pid still is that process. */
    private static Optional<ProcessHandle> localClient(LaunchedShard s) {
        if (s.pid().isEmpty()) {
            return Optional.empty();
        }
        return ProcessHandle.of(s.pid().get()).filter(ProcessHandle::isAlive)
                .filter(h -> s.processStart().isEmpty() || h.info().startInstant().map(t -> sameSecond(t,
                        s.processStart().get())).orElse(false));
    }

    /**
     * Whether a shard started in an existing job is gone by its run command's client on this machine (ssh, pbsdsh,
     * mpiexec: it returns when the server exits): the recorded client has exited, and the shard does not answer.
     * False when no client was recorded here (started through a login node) or it cannot be told.
     */
    static boolean clientGone(LaunchedShard s) {
        if (!MODE_ALLOC.equals(s.handle().get(MODE)) || s.pid().isEmpty()) {
            return false;
        }
        Optional<ProcessHandle> h = ProcessHandle.of(s.pid().get());
        boolean ours = h.isPresent() && h.get().isAlive() && !exited(s.pid().get()) && (s.processStart().isEmpty()
                || h.get().info().startInstant().map(t -> sameSecond(t, s.processStart().get())).orElse(true));
        return !ours && !Ping.answers(s.host(), s.port(), (int) PING_TIMEOUT.toMillis(), TlsFiles.access(s));
    }

    /**
     * Whether {@code host:port} refuses connections (ECONNREFUSED: the node answers, nothing listens on the port),
     * which a shard that still runs never does, hung or not. A timeout or an unreachable node is no such proof, and
     * neither is a port reached through a transport's forward (the forward itself accepts), so those are false.
     */
    static boolean refuses(String host, int port) {
        if (io.smartsim.launch.exec.Routes.routed(host, port)) {
            return false;
        }
        try (java.net.Socket sock = new java.net.Socket()) {
            sock.connect(new java.net.InetSocketAddress(host, port), (int) PING_TIMEOUT.toMillis());
            return false;
        } catch (java.net.ConnectException e) {
            return e.getMessage() != null && e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("refused");
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether /proc says the process has exited (state Z or X: not yet reaped); false where there is no /proc. */
    private static boolean exited(long pid) {
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int end = stat.lastIndexOf(')'); // the command name may hold spaces and parentheses
            char state = end >= 0 && end + 2 < stat.length() ? stat.charAt(end + 2) : '?';
            return state == 'Z' || state == 'X';
        } catch (java.nio.file.NoSuchFileException gone) {
            return true;
        } catch (java.io.IOException | RuntimeException noProc) {
            return false;
        }
    }

    private static boolean sameSecond(Instant a, Instant b) {
        return Math.abs(a.getEpochSecond() - b.getEpochSecond()) <= 1;
    }
}
