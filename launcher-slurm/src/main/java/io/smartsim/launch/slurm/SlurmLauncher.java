package io.smartsim.launch.slurm;

import io.smartsim.launch.batch.BatchModelServers;
import io.smartsim.launch.batch.BatchScripts;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.TransportSource;
import io.smartsim.launch.exec.Detached;
import io.smartsim.launch.exec.Transports;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.PortSearch;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.spi.TlsFiles;
import io.smartsim.launch.slurm.SlurmParsers.Accounting;
import io.smartsim.launch.slurm.SlurmParsers.Job;
import io.smartsim.launch.slurm.SlurmParsers.ShardReport;
import io.smartsim.launch.slurm.SlurmParsers.Step;
import io.smartsim.launch.batch.BatchLauncher;
import io.smartsim.launch.batch.BatchDialect;
import io.smartsim.launch.batch.BatchStart;
import io.smartsim.launch.cluster.Landing;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.LauncherContext;
import io.smartsim.launch.util.Backoff;
import io.smartsim.launch.util.Deadline;
import io.smartsim.launch.util.ListeningPorts;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs every shard as its own Slurm step: inside an existing allocation ({@code SLURM_JOB_ID} or
 * {@code launcherOptions.alloc}), or as a batch job of its own ({@code launcherOptions.batch=true}). Each step runs a
 * wrapper that learns its node's address, reports it in a small file under the shard's directory (on a cluster,
 * the shared file system), and execs the server bound to that address. Every scheduler command, every file
 * (configs, scripts, reports, logs) and the long-running {@code srun} of an in-allocation step go through a
 * {@link CommandRunner}: the one this launcher is given, or the transport its options name ({@link Transports}:
 * this machine, or a login node with {@code remote=user@host}). Which one, it never knows; each shard records
 * what reopens it, so status and stop from another process use the same transport.
 */
public final class SlurmLauncher extends BatchLauncher {
    public static final String NAME = "slurm";
    /** Handle keys recorded for each shard. */
    public static final String JOB = BatchStart.JOB;
    public static final String STEP = "stepId";
    public static final String NODE = BatchStart.NODE;
    public static final String MODE = BatchStart.MODE;
    public static final String MODE_ALLOC = BatchStart.MODE_ALLOC;
    public static final String MODE_BATCH = BatchStart.MODE_BATCH;
    /**
     * Handle key of a batch shard whose job outlives its own steps (--restart on-failure: the script ends with a wait
     * loop, see {@link SlurmScripts#tail}): stop cancels such a job at once instead of waiting for it to complete.
     */
    public static final String JOB_OUTLIVES_STEPS = "jobOutlivesSteps";
    /**
     * An in-allocation shard's {@code srun} pid where commands run. A shard reported before its step ({@link #STEP}
     * absent) is ended through it, or through its step found by name.
     */
    public static final String SRUN_PID = "srunPid";
    /**
     * An in-allocation shard's work directory (its srun's {@code --chdir}), recorded before the srun is spawned: with
     * the job and step name it finds an srun whose pid was never recorded ({@link SlurmCommands#srunPids}).
     */
    public static final String WORK_DIR = "workDir";
    /**
     * Under {@code --ai}: the step ({@code JOB.STEP}) of the model server of the shard's node, a step of its own
     * ({@link BatchModelServers}); stop cancels it after the shards, status and the watchdog look it up in squeue.
     */
    public static final String AI_STEP = AiPlanner.HANDLE_PREFIX + "step";
    /**
     * Under {@code --ai} in an allocation, until the model server of the shard's node has reported ({@link #AI_STEP}
     * then): its step name and its srun's work directory, recorded before that srun is spawned. A stop after the
     * launch was SIGKILLed while the model servers started finds the step by name and the srun by its command line.
     */
    public static final String AI_TASK = AiPlanner.HANDLE_PREFIX + "task";
    public static final String AI_WORK_DIR = AiPlanner.HANDLE_PREFIX + "workDir";

    /** srun --overlap, which lets shards share CPUs with each other and the model's steps, came with 20.11. */
    private static final int OVERLAP_SINCE_MAJOR = 20;
    private static final int OVERLAP_SINCE_MINOR = 11;
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration CANCEL_WAIT = Duration.ofSeconds(15);

    /**
     * The sruns this process started, by {@link #srunKey}: a stop in this process (the abort hook of a start that
     * SIGINT ended) terminates them directly, whichever transport runs them. Entries leave when their shards stop.
     */
    static final Map<String, Detached> SRUNS = new ConcurrentHashMap<>();

    /**
     * Runs scheduler commands where the spec's options say ({@link Transports}: this machine unless {@code remote})
     * and reads {@code SLURM_JOB_ID} from this process's environment.
     */
    /** Working in this process's context ({@link LauncherContext#process()}): as {@code --launcher slurm} finds it. */
    public SlurmLauncher() {
        this(LauncherContext.process());
    }

    /** Working in {@code context}: its transport runs the scheduler commands, {@code SLURM_JOB_ID} is read in its env. */
    public SlurmLauncher(LauncherContext context) {
        super(NAME, context);
    }

    /** @param runner where scheduler commands run, whatever the options say; @param env where to find {@code SLURM_JOB_ID} */
    public SlurmLauncher(CommandRunner runner, Map<String, String> env) {
        this(new LauncherContext(TransportSource.fixed(runner), env));
    }

    @Override
    public SlurmLauncher in(LauncherContext context) {
        return new SlurmLauncher(context);
    }

    /**
     * Behind a login node ({@code --remote}) the nodes read the lease file on the cluster's file system, not the one
     * renewed here: each renewal writes the new expiry there over the login node's session. Otherwise the file is
     * already where the nodes read it (a shared file system), and there is nothing to push.
     */
    @Override
    public void pushLease(LaunchPlan plan, List<LaunchedShard> shards, java.time.Instant expiry) {
        pushLease(plan, shards, expiry, COMMAND_TIMEOUT);
    }

    /** As {@link #pushLease(LaunchPlan, List, java.time.Instant)}, giving up after {@code timeout}. */
    @Override
    public void pushLease(LaunchPlan plan, List<LaunchedShard> shards, java.time.Instant expiry, Duration timeout) {
        if (shards.isEmpty() || !shards.get(0).handle().containsKey(io.smartsim.launch.exec.Transports.REMOTE)) {
            return;
        }
        CommandRunner runner = runner(shards.get(0).handle());
        io.smartsim.launch.supervise.Lease.in(plan.dir()).push(runner, expiry, timeout);
    }

    /** A new step of the dead shard's wrapper, pinned to its node, in its job: see {@link SlurmRestart}. */
    @Override
    public LaunchedShard restart(LaunchPlan plan, LaunchedShard dead, LaunchContext ctx) {
        return new SlurmRestart(plan, dead, ctx, runner(dead.handle())).go();
    }

    @Override
    public Placement place(OrchestratorSpec spec) {
        SlurmOptions opts = SlurmOptions.parse(spec.launcherOptions());
        CommandRunner runner = runner(spec.launcherOptions());
        if (opts.batch()) {
            return batchPlacement(spec); // --ai: the module in each shard, a model server per node
        }
        String jobId = allocation(opts);
        Job job = queryJob(runner, jobId).orElseThrow(() -> new InvalidSpecException("launcherOptions.alloc", "allocation "
                + jobId + " is not in the queue (finished or never existed); start a new one or use batch=true"));
        if (!job.running()) {
            throw new InvalidSpecException("launcherOptions.alloc", "allocation " + jobId + " is " + job.state()
                    + " (reason " + job.reason() + "), not RUNNING; wait until it runs");
        }
        List<String> hosts = SlurmParsers.hostnames(must(runner, SlurmCommands.hostnames(job.nodeList()),
                "cannot expand the node list of allocation " + jobId).stdout());
        return onHosts(spec, hosts, "allocation " + jobId, job.nodeList(), "allocation");
    }

    /**
     * {@code --port auto} in an allocation: one {@code srun --overlap} step over the planned nodes prints each node's
     * listening sockets ({@link SlurmCommands#srunListeningPorts}), through the same transport as every other
     * command ({@code --remote} included); then the lowest base port from the spec's up at which every node's
     * shards, bus ports and {@code --ai} server ports are free ({@link PortSearch}). Any socket listening on a port
     * counts, whatever its address: the node picks its shards' address only at launch. As a batch job the nodes are
     * not known until the job runs, so {@code --port auto} is refused there by name.
     */
    @Override
    public OrchestratorSpec choosePorts(OrchestratorSpec spec) {
        if (!spec.autoPort()) {
            return spec;
        }
        SlurmOptions opts = SlurmOptions.parse(spec.launcherOptions());
        if (opts.batch()) {
            throw noAutoPortInBatch("run inside an allocation (--alloc)");
        }
        Placement placement = place(spec);
        List<String> nodes = placement.nodes().stream().map(Placement.Node::host).distinct().toList();
        CommandRunner runner = runner(spec.launcherOptions());
        String jobId = allocation(opts);
        CommandResult r = runner.run(SlurmCommands.srunListeningPorts(jobId, nodes, spec.id() + "-ports"),
                COMMAND_TIMEOUT);
        Map<String, Set<ListeningPorts.Listener>> listeners = r.ok() ? ListeningPorts.parse(r.stdout()) : Map.of();
        List<String> missing = ListeningPorts.missing(nodes, listeners);
        if (!missing.isEmpty()) {
            throw new InvalidSpecException("port", "--port auto reads each node's listening ports from /proc/net/tcp "
                    + "in one step of allocation " + jobId + ", but node(s) " + String.join(",", missing)
                    + " did not report them: " + r.describe() + "; give a fixed base port, for example --port "
                    + OrchestratorSpec.DEFAULT_PORT);
        }
        return lowestFree(spec, placement, listeners, "node(s) " + String.join(",", nodes) + " of allocation "
                + jobId);
    }

    String allocation(SlurmOptions opts) {
        return allocation(opts.alloc(), "SLURM_JOB_ID", "a Slurm allocation", "run inside salloc or sbatch, pass the "
                + "allocation's job id");
    }

    @Override
    public void preflight(LaunchPlan plan) {
        SlurmOptions opts = SlurmOptions.parse(plan.spec().launcherOptions());
        CommandRunner runner = runner(plan.spec().launcherOptions());
        CommandResult r = runner.run(SlurmCommands.version(), COMMAND_TIMEOUT);
        if (!r.ok()) {
            throw new LaunchException("Slurm commands do not work on " + runner.where() + ": " + r.describe());
        }
        SlurmParsers.Version v;
        try {
            v = SlurmParsers.version(r.stdout());
        } catch (IllegalArgumentException e) {
            v = null; // an unusual version string is no reason to refuse; srun will say if an option is unknown
        }
        if (v != null && !v.atLeast(OVERLAP_SINCE_MAJOR, OVERLAP_SINCE_MINOR)) {
            throw new LaunchException("Slurm on " + runner.where() + " is " + v.text() + ", but the slurm launcher "
                    + "needs " + OVERLAP_SINCE_MAJOR + "." + OVERLAP_SINCE_MINOR + " or later: it starts each shard "
                    + "with srun --overlap, which older srun does not know");
        }
        if (!opts.batch() && !plan.spec().autoPort()) {
            refuseTakenPorts(plan, runner, allocation(opts));
        }
    }

    /**
     * A fixed port already in use on a node of the allocation is refused before any shard step starts, naming what
     * holds it where the node can tell: one probe step over the nodes (the one {@code --port auto} uses, about 0.15 s
     * on the testbed), and a second on that node only when a port is taken. A node that cannot be probed is no
     * reason to refuse: its shard's own bind says so. (As a batch job the nodes are not known before it runs.)
     */
    private void refuseTakenPorts(LaunchPlan plan, CommandRunner runner, String jobId) {
        List<String> nodes = plan.shards().stream().map(ShardPlan::host).distinct().toList();
        CommandResult r = runner.run(SlurmCommands.srunListeningPorts(jobId, nodes, plan.id() + "-ports"),
                COMMAND_TIMEOUT);
        Map<String, Set<ListeningPorts.Listener>> listeners = r.ok() ? ListeningPorts.parse(r.stdout()) : Map.of();
        Optional<PortSearch.Taken> taken = firstTaken(plan, listeners);
        if (taken.isPresent()) {
            String node = taken.get().host();
            int port = taken.get().port();
            CommandResult who = runner.run(SlurmCommands.srunOn(jobId, List.of(node), plan.id() + "-ports",
                    ListeningPorts.owners(port)), COMMAND_TIMEOUT);
            throw PortSearch.taken(plan, port, "node " + node + " of allocation " + jobId,
                    who.ok() ? ListeningPorts.heldBy(who.stdout()) : Optional.empty());
        }
    }

    @Override
    public List<LaunchedShard> start(LaunchPlan plan, LaunchContext ctx) {
        SlurmOptions opts = SlurmOptions.parse(plan.spec().launcherOptions());
        return BatchStart.run(plan, ctx, new Start(plan, opts, runner(plan.spec().launcherOptions())));
    }

    /** Slurm's side of one launch ({@link BatchStart}): shards as steps, each run by srun, or by an sbatch job. */
    private final class Start extends BatchDialect.Base<ShardReport> {
        private final SlurmOptions opts;

        Start(LaunchPlan plan, SlurmOptions opts, CommandRunner runner) {
            super(plan, runner, opts.batch(), new BatchDialect.Words("srun", "its step",
                    "every step of this launch was cancelled"), SlurmScripts.batchPath(plan),
                    SlurmScripts.batchOutput(plan));
            this.opts = opts;
        }

        @Override
        public Map<Path, String> scripts() {
            Map<Path, String> out = new LinkedHashMap<>();
            SlurmScripts.all(plan, opts).forEach((name, text) -> out.put(plan.dir().resolve(name), text));
            return out;
        }

        /**
         * --lease behind a login node: the guards read the lease file on the cluster's file system, so it goes there
         * too (renewals follow through pushLease).
         */
        @Override
        public void written(Duration timeout) {
            if (plan.spec().lease().isPresent() && TlsFiles.remote(runner)) {
                io.smartsim.launch.supervise.Lease lease = io.smartsim.launch.supervise.Lease.in(plan.dir());
                lease.expiry().ifPresent(e -> lease.push(runner, e, timeout));
            }
        }

        @Override
        public String submit(Duration timeout) {
            CommandResult r = runner.run(SlurmCommands.sbatch(SlurmScripts.batchPath(plan), plan.dir(),
                    SlurmScripts.batchOutput(plan)), timeout);
            if (!r.ok()) {
                throw new LaunchException("sbatch rejected the batch job of '" + plan.id() + "': " + r.describe());
            }
            return SlurmParsers.parsableJobId(r.stdout());
        }

        @Override
        public Map<String, String> submittedHandle() {
            return outlives();
        }

        /** A batch job whose script waits on after its steps (--restart on-failure), so stop cancels it at once. */
        private Map<String, String> outlives() {
            return opts.batch() && plan.spec().restart() == io.smartsim.launch.spec.RestartPolicy.ON_FAILURE
                    ? Map.of(JOB_OUTLIVES_STEPS, "true") : Map.of();
        }

        @Override
        public Optional<BatchDialect.JobState> job(String jobId) {
            return queryJob(runner, jobId).map(j -> new BatchDialect.JobState(j.running(), j.pending(), j.nodeList(),
                    j.state() + " (" + j.reason() + ")", Optional.empty(), "; pending reason: " + j.reason()));
        }

        /** The job left the queue or stopped running: its accounting state, exit code and output. */
        @Override
        public RuntimeException ended(String jobId, String when, Optional<BatchDialect.JobState> job) {
            String state = "it left the queue";
            CommandResult acct = runner.run(SlurmCommands.sacct(List.of(jobId)), COMMAND_TIMEOUT);
            if (acct.ok()) {
                Optional<Accounting> a = SlurmParsers.accounting(acct.stdout()).stream()
                        .filter(x -> x.id().equals(jobId)).findFirst();
                if (a.isPresent()) {
                    state = "state " + a.get().state() + ", exit code " + a.get().exitCode();
                }
            }
            Path out = plan.dir().resolve(plan.id() + "-" + jobId + ".out");
            return new ShardStartException("batch job " + jobId + " of '" + plan.id() + "' ended " + when + " ("
                    + state + ").\n" + runner.logTail(out, 10));
        }

        /** A batch job's shards have no local srun to watch: one squeue for its steps tells if one died. */
        @Override
        public void checkBatch(String jobId, List<Optional<LaunchedShard>> landed) {
            CommandResult r = runner.run(SlurmCommands.squeueSteps(List.of(jobId)), COMMAND_TIMEOUT);
            if (!r.ok()) {
                return; // a transient squeue failure is not a shard failure; the deadline still bounds the wait
            }
            Set<String> live = new LinkedHashSet<>();
            SlurmParsers.steps(r.stdout()).forEach(st -> live.add(st.id()));
            if (live.isEmpty()) {
                Optional<BatchDialect.JobState> job = job(jobId);
                if (job.isEmpty() || !job.get().running()) {
                    throw ended(jobId, "while its shards were starting", job);
                }
            }
            for (int i = 0; i < landed.size(); i++) {
                Optional<LaunchedShard> ls = landed.get(i);
                if (ls.isPresent() && ls.get().handle().containsKey(STEP)
                        && !live.contains(jobId + "." + ls.get().handle().get(STEP))) {
                    throw new BatchDialect.ShardEnded(i, "its step " + jobId + "." + ls.get().handle().get(STEP)
                            + " ended");
                }
            }
        }

        @Override
        public void cancelJob(String jobId) throws InterruptedException {
            runner.run(SlurmCommands.scancel(List.of(jobId)), COMMAND_TIMEOUT);
            awaitGone(runner, List.of(jobId), Set.of(), Deadline.after(CANCEL_WAIT));
        }

        @Override
        public String allocation() {
            return SlurmLauncher.this.allocation(opts);
        }

        /**
         * cpus 1: in an allocation the user made, its CPU layout applies and shards overlap with the model's steps; a
         * --cpus-per-task above its CPUs per node would make srun refuse the step.
         */
        @Override
        public Detached spawn(ShardPlan s, String jobId, Duration timeout) {
            return runner.spawn(SlurmCommands.srunShard(Optional.of(jobId), s.host(), s.name(), s.workDir(),
                    SlurmScripts.wrapperPath(s), 1), s.workDir(), BatchScripts.consoleLog(s), timeout);
        }

        /**
         * A shard's srun just before it is spawned (empty), and again with its pid the moment it exists, before its
         * step reports an address: were this process to end now (SIGINT), core's abort hook stops it through
         * {@link #stop} with this handle, which has no step id yet; after a SIGKILL, {@code db cleanup} finds its srun
         * by job, step name and work dir (RunSlurmSignalIT).
         */
        @Override
        public Optional<LaunchedShard> early(ShardPlan s, Optional<Detached> srun, String jobId) {
            Map<String, String> handle = new LinkedHashMap<>(runner.recorded());
            handle.put(JOB, jobId);
            handle.put(NODE, s.host());
            handle.put(MODE, MODE_ALLOC);
            handle.put(WORK_DIR, s.workDir().toString());
            srun.ifPresent(d -> d.pid().ifPresent(pid -> {
                handle.put(SRUN_PID, Long.toString(pid));
                SRUNS.put(srunKey(runner, pid), d);
            }));
            return Optional.of(new LaunchedShard(s.index(), s.name(), s.host(), s.port(), Optional.empty(),
                    Optional.empty(), handle));
        }

        /** Its step's name and its srun's work directory, so a stop finds both before it reports ({@link #AI_TASK}). */
        @Override
        public Map<String, String> earlyModelServer(ModelServerPlan m, String jobId) {
            Map<String, String> early = new LinkedHashMap<>();
            early.put(AI_TASK, BatchModelServers.taskName(plan, m));
            early.put(AI_WORK_DIR, m.workDir().toString());
            return early;
        }

        /** A model server as a step of its own on its node, like a shard's ({@link BatchModelServers}). */
        @Override
        public Detached spawnModelServer(ModelServerPlan m, String jobId, Duration timeout) {
            return spawnModelServerStep(runner, plan, m, jobId, m.host(), timeout);
        }

        @Override
        public Map<String, String> modelServerHandle(BatchModelServers.Report r, Optional<Detached> srun) {
            return Map.of(AI_STEP, r.job() + "." + r.step());
        }

        @Override
        public String started(int count, String jobId) {
            return "started " + count + " step(s) in allocation " + jobId;
        }

        /** The steps of the shards that landed, then the sruns this launch runs (srun cancels its step when ended). */
        @Override
        public void cancelInAllocation(String jobId, List<LaunchedShard> landed, List<Detached> sruns)
                throws InterruptedException {
            Set<String> steps = new LinkedHashSet<>();
            for (LaunchedShard ls : landed) {
                steps.add(jobId + "." + ls.handle().get(STEP));
            }
            if (!steps.isEmpty()) {
                runner.run(SlurmCommands.scancel(List.copyOf(steps)), COMMAND_TIMEOUT);
            }
            for (Detached p : sruns) {
                p.terminate(Duration.ofSeconds(5));
            }
            SRUNS.values().removeAll(sruns);
            awaitGone(runner, List.of(), steps, Deadline.after(CANCEL_WAIT));
        }

        @Override
        public Optional<ShardReport> readReport(ShardPlan s) {
            return SlurmLauncher.readReport(runner, s);
        }

        @Override
        public Optional<String> problem(Map<Integer, ShardReport> reports) {
            return addressProblem(reports);
        }

        @Override
        public void record(ShardPlan s, ShardReport r, Map<String, String> handle, Optional<Detached> srun) {
            handle.put(JOB, r.jobId());
            handle.put(STEP, r.stepId());
            handle.putAll(outlives());
            srun.flatMap(Detached::pid).ifPresent(pid -> handle.put(SRUN_PID, Long.toString(pid)));
        }

        @Override
        public String node(ShardReport r) {
            return r.node();
        }

        @Override
        public String upAs(LaunchedShard ls, String jobId) {
            return ls.address() + " (node " + ls.handle().get(NODE) + ", step " + jobId + "." + ls.handle().get(STEP)
                    + ")";
        }

    }

    /**
     * Why these shards' reports (by shard index) cannot make one orchestrator, if they cannot: a loopback address
     * while the shards run on more than one host (Debian's /etc/hosts maps a machine's own name to 127.0.1.1, so
     * every node would announce an address only it can reach), or two nodes reporting the same address and port.
     * Several Slurm nodes on one host (the testbed) may use loopback addresses: they all reach each other.
     */
    static Optional<String> addressProblem(Map<Integer, ShardReport> landed) {
        Map<Integer, ShardReport> reports = new TreeMap<>(landed);
        Set<String> hosts = new TreeSet<>();
        reports.values().stream().map(ShardReport::hostname).filter(h -> !h.isBlank()).forEach(hosts::add);
        if (hosts.size() > 1) {
            for (Map.Entry<Integer, ShardReport> e : reports.entrySet()) {
                ShardReport r = e.getValue();
                if (r.loopback()) {
                    return Optional.of("shard " + e.getKey() + " on node " + r.node() + " (host " + r.hostname()
                            + ") got the loopback address " + r.address() + ", but the shards run on " + hosts.size()
                            + " hosts (" + String.join(", ", hosts) + "), which cannot reach it there. Without"
                            + " --interface a shard binds what its node's name resolves to, and on Debian-style"
                            + " systems /etc/hosts maps a machine's own name to 127.0.1.1; pass --interface with the"
                            + " interface of the"
                            + " network the nodes share (for example --interface ib0 or --interface eth0; `ip -o -4"
                            + " addr` on a compute node lists them)");
                }
            }
        }
        Map<String, Map.Entry<Integer, ShardReport>> byAddress = new LinkedHashMap<>();
        for (Map.Entry<Integer, ShardReport> e : reports.entrySet()) {
            ShardReport r = e.getValue();
            Map.Entry<Integer, ShardReport> other = byAddress.putIfAbsent(r.address() + ":" + r.port(), e);
            if (other != null && !other.getValue().node().equals(r.node())) {
                return Optional.of("shards " + other.getKey() + " (node " + other.getValue().node() + ") and "
                        + e.getKey() + " (node " + r.node() + ") both reported " + r.address() + ":" + r.port()
                        + ": the nodes' names or the interface given resolve to the same address on different nodes;"
                        + " pass --interface with the interface of the network the nodes share");
            }
        }
        return Optional.empty();
    }

    @Override
    public Map<String, String> renderedScripts(LaunchPlan plan) {
        return SlurmScripts.all(plan, SlurmOptions.parse(plan.spec().launcherOptions()));
    }

    static Optional<ShardReport> readReport(CommandRunner runner, ShardPlan s) {
        // The wrapper renames it into place: it is whole once it exists.
        return Landing.unlessFailed(runner.readFile(BatchScripts.reportPath(s), COMMAND_TIMEOUT))
                .map(ShardReport::parse);
    }

    /** The job as squeue sees it; empty once it has left the queue. */
    private static Optional<Job> queryJob(CommandRunner runner, String jobId) {
        CommandResult r = runner.run(SlurmCommands.squeueJobs(List.of(jobId)), COMMAND_TIMEOUT);
        if (!r.ok()) {
            if (r.stderr().contains("Invalid job id")) {
                return Optional.empty();
            }
            throw new LaunchException("cannot query job " + jobId + ": " + r.describe());
        }
        return SlurmParsers.jobs(r.stdout()).stream().filter(j -> j.id().equals(jobId)).findFirst();
    }

    private static CommandResult must(CommandRunner runner, List<String> argv, String what) {
        CommandResult r = runner.run(argv, COMMAND_TIMEOUT);
        if (!r.ok()) {
            throw new LaunchException(what + ": " + r.describe());
        }
        return r;
    }

    /** Running step ids ({@code JOB.STEP}) of these jobs, from one squeue call; empty when squeue fails. */
    private static Optional<Set<String>> liveSteps(CommandRunner runner, List<String> jobIds) {
        return stepsOf(runner, jobIds).map(steps -> {
            Set<String> ids = new LinkedHashSet<>();
            steps.forEach(st -> ids.add(st.id()));
            return ids;
        });
    }

    /** Running steps of these jobs, from one squeue call; empty when squeue fails. */
    private static Optional<List<Step>> stepsOf(CommandRunner runner, List<String> jobIds) {
        try {
            CommandResult r = runner.run(SlurmCommands.squeueSteps(jobIds), COMMAND_TIMEOUT);
            return r.ok() ? Optional.of(SlurmParsers.steps(r.stdout())) : Optional.empty();
        } catch (LaunchException e) {
            return Optional.empty();
        }
    }

    /** The key of an srun in {@link #SRUNS}: where it runs and its pid there. */
    static String srunKey(CommandRunner runner, long pid) {
        return runner.where() + " " + pid;
    }

    /** An in-allocation shard reported when its srun started, whose step has not reported yet: no step id. */
    static boolean unreported(LaunchedShard s) {
        return s.handle().containsKey(JOB) && !s.handle().containsKey(STEP) && !MODE_BATCH.equals(s.handle().get(MODE));
    }

    /** The running step of a shard that never reported its step id: its job's step of its name (on its node). */
    static Optional<Step> stepByName(List<Step> live, LaunchedShard s) {
        String node = s.handle().get(NODE);
        return live.stream().filter(st -> st.jobId().equals(s.handle().get(JOB)) && st.name().equals(s.name())
                && (node == null || st.nodeList().equals(node))).findFirst();
    }

    /**
     * The running step of the model server an unreported shard records only by its task's name ({@link #AI_TASK}: the
     * launch ended before that model server reported): its job's step of that name on the shard's node.
     */
    static Optional<Step> modelServerStepByName(List<Step> live, LaunchedShard s) {
        String task = s.handle().get(AI_TASK);
        String node = s.handle().get(NODE);
        if (task == null || s.handle().containsKey(AI_STEP)) {
            return Optional.empty();
        }
        return live.stream().filter(st -> st.jobId().equals(s.handle().get(JOB)) && st.name().equals(task)
                && (node == null || st.nodeList().equals(node))).findFirst();
    }

    /**
     * The srun of the model server an unreported shard records only by its task's name and work directory, found by
     * its command line where commands run (its pid was never recorded).
     */
    private static List<Long> unrecordedModelServerSruns(CommandRunner runner, LaunchedShard s) {
        String task = s.handle().get(AI_TASK);
        String dir = s.handle().get(AI_WORK_DIR);
        if (task == null || dir == null || s.handle().containsKey(AI_STEP) || !unreported(s)) {
            return List.of();
        }
        CommandResult r = runner.run(SlurmCommands.srunPids(s.handle().get(JOB), task, Path.of(dir)), COMMAND_TIMEOUT);
        return r.stdout().lines().map(String::strip).filter(l -> l.matches("\\d+")).map(Long::parseLong).toList();
    }

    /**
     * Whether the shard's recorded srun still runs: the one this process started, or (from another process: {@code db
     * cleanup} after the start was SIGKILLed) the process of the recorded pid if it still is this shard's srun. An
     * srun whose step is not listed yet would otherwise count as gone and create its step after the cleanup.
     */
    private static boolean srunRunning(CommandRunner runner, LaunchedShard s) {
        String pid = s.handle().get(SRUN_PID);
        if (pid == null) {
            return !unrecordedSruns(runner, s).isEmpty();
        }
        Detached srun = SRUNS.get(srunKey(runner, Long.parseLong(pid)));
        if (srun != null) {
            return srun.exit().isEmpty();
        }
        return runner.run(SlurmCommands.srunAlive(Long.parseLong(pid), s.handle().get(JOB), s.name()),
                COMMAND_TIMEOUT).exitCode() == 0;
    }

    /**
     * The srun of a shard recorded just before its spawn and not again (no pid: the start was killed in between),
     * found by its command line where commands run; none for a shard recorded without its work directory.
     */
    private static List<Long> unrecordedSruns(CommandRunner runner, LaunchedShard s) {
        String dir = s.handle().get(WORK_DIR);
        if (dir == null || !unreported(s)) {
            return List.of();
        }
        CommandResult r = runner.run(SlurmCommands.srunPids(s.handle().get(JOB), s.name(), Path.of(dir)),
                COMMAND_TIMEOUT);
        return r.stdout().lines().map(String::strip).filter(l -> l.matches("\\d+")).map(Long::parseLong).toList();
    }

    /**
     * Ends shards that never reported their steps: the steps of theirs that squeue lists by name are cancelled, then
     * each srun is ended (one still waiting for its step cancels the request) — the one this process started, or by
     * its recorded pid if that still is this shard's srun. Cancelling first lets the sruns exit at once rather than
     * wait for their steps. Returns those steps ({@code JOB.STEP}), cancelled but maybe not gone yet.
     */
    private static Set<String> endUnreported(CommandRunner runner, List<LaunchedShard> shards)
            throws InterruptedException {
        List<String> jobs = shards.stream().map(s -> s.handle().get(JOB)).distinct().toList();
        Set<String> found = new LinkedHashSet<>();
        stepsOf(runner, jobs).ifPresent(live -> shards.forEach(s -> {
            stepByName(live, s).ifPresent(st -> found.add(st.id()));
            modelServerStepByName(live, s).ifPresent(st -> found.add(st.id())); // --ai: one not reported either
        }));
        if (!found.isEmpty()) {
            runner.run(SlurmCommands.scancel(List.copyOf(found)), COMMAND_TIMEOUT);
        }
        Set<String> modelServerSruns = new LinkedHashSet<>();
        for (LaunchedShard s : shards) {
            for (long p : unrecordedModelServerSruns(runner, s)) {
                if (modelServerSruns.add(s.handle().get(JOB) + ":" + p)) { // one per node, recorded by each shard
                    runner.run(SlurmCommands.killSrun(p, s.handle().get(JOB), s.handle().get(AI_TASK)),
                            COMMAND_TIMEOUT);
                }
            }
            String pid = s.handle().get(SRUN_PID);
            if (pid == null) {
                for (long p : unrecordedSruns(runner, s)) {
                    runner.run(SlurmCommands.killSrun(p, s.handle().get(JOB), s.name()), COMMAND_TIMEOUT);
                }
                continue;
            }
            Detached mine = SRUNS.remove(srunKey(runner, Long.parseLong(pid)));
            if (mine != null) {
                mine.terminate(Duration.ofSeconds(5));
            } else {
                runner.run(SlurmCommands.killSrun(Long.parseLong(pid), s.handle().get(JOB), s.name()),
                        COMMAND_TIMEOUT);
            }
        }
        // Another process's sruns were only signalled: they are waited for, so that the probe after a stop does not
        // count a dying srun as a shard left. One still there at the deadline is left for that probe to report.
        Backoff backoff = new Backoff(Deadline.after(CANCEL_WAIT), Duration.ofMillis(50), Duration.ofMillis(500));
        while (shards.stream().anyMatch(s -> srunRunning(runner, s)
                || !unrecordedModelServerSruns(runner, s).isEmpty())) {
            if (!backoff.pause()) {
                break;
            }
        }
        return found;
    }

    /** Jobs of these ids still in the queue, from one squeue call. */
    private static Set<String> queuedJobs(CommandRunner runner, List<String> jobIds) {
        CommandResult r = runner.run(SlurmCommands.squeueJobs(jobIds), COMMAND_TIMEOUT);
        Set<String> ids = new LinkedHashSet<>();
        if (r.ok()) {
            SlurmParsers.jobs(r.stdout()).stream().filter(j -> !j.finished()).forEach(j -> ids.add(j.id()));
        } else if (!r.stderr().contains("Invalid job id")) {
            ids.addAll(jobIds); // cannot tell: assume still there
        }
        return ids;
    }

    /** Waits until none of {@code jobs} is queued and none of {@code steps} runs; false at the deadline. */
    private static boolean awaitGone(CommandRunner runner, List<String> jobs, Set<String> steps, Deadline deadline)
            throws InterruptedException {
        Backoff backoff = new Backoff(deadline, Duration.ofMillis(50), Duration.ofMillis(500));
        List<String> stepJobs = steps.stream().map(s -> s.substring(0, s.indexOf('.'))).distinct().toList();
        while (true) {
            boolean jobsGone = jobs.isEmpty() || queuedJobs(runner, jobs).isEmpty();
            boolean stepsGone = steps.isEmpty() || liveSteps(runner, stepJobs).map(l -> l.stream().noneMatch(steps::contains))
                    .orElse(false);
            if (jobsGone && stepsGone) {
                return true;
            }
            if (!backoff.pause()) {
                return false;
            }
        }
    }

    @Override
    protected Map<Integer, Liveness> probe(CommandRunner runner, List<LaunchedShard> shards) {
        Map<Integer, Liveness> out = new LinkedHashMap<>();
        List<String> jobs = shards.stream().map(s -> s.handle().get(JOB)).filter(j -> j != null).distinct().toList();
        Optional<List<Step>> steps = jobs.isEmpty() ? Optional.empty() : stepsOf(runner, jobs);
        Optional<Set<String>> live = steps.map(l -> {
            Set<String> ids = new LinkedHashSet<>();
            l.forEach(st -> ids.add(st.id()));
            return ids;
        });
        for (LaunchedShard s : shards) {
            String job = s.handle().get(JOB);
            String step = s.handle().get(STEP);
            if (unreported(s) && steps.isPresent()) {
                out.put(s.index(), stepByName(steps.get(), s).isPresent() || srunRunning(runner, s) ? Liveness.ALIVE
                        : Liveness.GONE);
                continue;
            }
            out.put(s.index(), live.isEmpty() || job == null || step == null ? Liveness.UNKNOWN
                    : live.get().contains(job + "." + step) ? Liveness.ALIVE : Liveness.GONE);
        }
        return out;
    }

    /** Shards without a step have no address yet: not forwarded by {@link #reach}. */
    @Override
    protected boolean reported(LaunchedShard s) {
        return !unreported(s);
    }

    @Override
    public void stop(List<LaunchedShard> shards, Duration grace) {
        List<LaunchedShard> unreported = shards.stream().filter(SlurmLauncher::unreported).toList();
        Set<String> steps = new LinkedHashSet<>();
        Set<String> batchJobs = new LinkedHashSet<>();
        boolean outlive = false;
        for (LaunchedShard s : shards) {
            String job = s.handle().get(JOB);
            if (job == null) {
                continue;
            }
            if (s.handle().containsKey(STEP)) {
                steps.add(job + "." + s.handle().get(STEP));
            }
            if (MODE_BATCH.equals(s.handle().get(MODE))) {
                batchJobs.add(job);
                outlive |= "true".equals(s.handle().get(JOB_OUTLIVES_STEPS));
            }
        }
        if (steps.isEmpty() && batchJobs.isEmpty() && unreported.isEmpty() && modelServerSteps(shards).isEmpty()) {
            return;
        }
        CommandRunner runner = runner(shards.get(0).handle());
        try {
            // Shards whose steps never reported were beyond SHUTDOWN's reach: end them through Slurm at once.
            steps.addAll(endUnreported(runner, unreported));
            // Core has sent SHUTDOWN NOSAVE: each step ends with its server. Give them the grace to do so.
            if (!awaitGone(runner, List.of(), steps, Deadline.after(grace))) {
                runner.run(SlurmCommands.scancel(List.copyOf(steps)), COMMAND_TIMEOUT);
            }
            // --ai: the model servers' steps after the shards that load the module (a batch job's script waits for
            // them too); awaited gone below with the shards' steps.
            Set<String> aiSteps = modelServerSteps(shards);
            if (!aiSteps.isEmpty()) {
                awaitGone(runner, List.of(), steps, Deadline.after(CANCEL_WAIT));
                runner.run(SlurmCommands.scancel(List.copyOf(aiSteps)), COMMAND_TIMEOUT);
                steps.addAll(aiSteps);
            }
            if (!batchJobs.isEmpty()) {
                // With its steps gone the batch script's `wait` returns and the job completes on its own; one that
                // outlives its steps (--restart) never does.
                if (outlive || !awaitGone(runner, List.copyOf(batchJobs), Set.of(),
                        Deadline.after(Duration.ofSeconds(5)))) {
                    runner.run(SlurmCommands.scancel(List.copyOf(batchJobs)), COMMAND_TIMEOUT);
                }
            }
            if (!awaitGone(runner, List.copyOf(batchJobs), steps, Deadline.after(CANCEL_WAIT))) {
                List<String> all = new ArrayList<>(steps);
                all.addAll(batchJobs);
                throw new LaunchException("Slurm still lists " + String.join(", ", all) + " " + CANCEL_WAIT.toSeconds()
                        + " s after scancel; check squeue -s and scancel them by hand");
            }
            shards.stream().map(s -> s.handle().get(SRUN_PID)).filter(p -> p != null)
                    .forEach(p -> SRUNS.remove(srunKey(runner, Long.parseLong(p))));
        } catch (InterruptedException e) {
            List<String> all = new ArrayList<>(steps);
            all.addAll(batchJobs);
            runner.run(SlurmCommands.scancel(all), COMMAND_TIMEOUT);
            Thread.currentThread().interrupt();
        }
    }

    /** The model server steps ({@code JOB.STEP}) these shards record, each once. */
    static Set<String> modelServerSteps(List<LaunchedShard> shards) {
        Set<String> out = new LinkedHashSet<>();
        shards.stream().map(s -> s.handle().get(AI_STEP)).filter(st -> st != null && st.contains("."))
                .forEach(out::add);
        return out;
    }

    /** A model server as a step of its own on {@code node} of job {@code jobId}, its output in its console. */
    static Detached spawnModelServerStep(CommandRunner runner, LaunchPlan plan, ModelServerPlan m, String jobId,
                                         String node, Duration timeout) {
        return runner.spawn(SlurmCommands.srunShard(Optional.of(jobId), node, BatchModelServers.taskName(plan, m),
                m.workDir(), BatchModelServers.wrapperPath(m), 1), m.workDir(), m.console(), timeout);
    }

    /**
     * Under {@code --ai}: whether the model server step each shard records ({@link #AI_STEP}) still runs, from one
     * squeue call; unknown when squeue cannot say. Shards that record none are left out.
     */
    @Override
    public Map<Integer, Liveness> probeModelServers(LaunchPlan plan, List<LaunchedShard> shards) {
        List<LaunchedShard> serving = shards.stream().filter(s -> s.handle().getOrDefault(AI_STEP, "").contains("."))
                .toList();
        Map<Integer, Liveness> out = new TreeMap<>();
        if (serving.isEmpty()) {
            return out;
        }
        CommandRunner runner = runner(serving.get(0).handle());
        List<String> jobs = serving.stream().map(s -> s.handle().get(AI_STEP).split("\\.")[0]).distinct().toList();
        Optional<Set<String>> live = liveSteps(runner, jobs);
        for (LaunchedShard s : serving) {
            out.put(s.index(), live.isEmpty() ? Liveness.UNKNOWN
                    : live.get().contains(s.handle().get(AI_STEP)) ? Liveness.ALIVE : Liveness.GONE);
        }
        return out;
    }

    /**
     * Under {@code --ai} and {@code --restart on-failure}: each model server whose step is gone is started again as a
     * new step on the node it ran on, in its job (its socket path as before, so the modules reconnect on their next
     * model command and load their models again), and awaited until ready; its shards then record the new step. A
     * shard that still records an older one while another of its node records the running one gets that one.
     */
    @Override
    public List<LaunchedShard> reviveModelServers(LaunchPlan plan, List<LaunchedShard> shards, LaunchContext ctx) {
        // squeue not answering leaves a model server UNKNOWN: not judged now
        return BatchModelServers.revive(plan, shards, probeModelServers(plan, shards), served -> false,
                (m, shard) -> startAgain(plan, m, shard, ctx));
    }

    /** Model server {@code m}, gone, as a new step where {@code shard} records it ran; its shards' new entries. */
    private Map<String, String> startAgain(LaunchPlan plan, ModelServerPlan m, LaunchedShard shard, LaunchContext ctx) {
        String step = shard.handle().get(AI_STEP);
        String job = step.substring(0, step.indexOf('.'));
        String node = shard.handle().get(AiPlanner.HANDLE_NODE);
        if (node == null) {
            throw new ShardStartException("cannot start the --ai model server " + m.index() + " of '" + plan.id()
                    + "' again: its shards do not record the node it ran on");
        }
        CommandRunner runner = runner(shard.handle());
        return BatchModelServers.startAgain(plan, runner, m, COMMAND_TIMEOUT,
                () -> spawnModelServerStep(runner, plan, m, job, node, COMMAND_TIMEOUT), "srun",
                "its new step was cancelled; the shards keep serving data", ctx,
                (r, srun) -> Map.of(AI_STEP, r.job() + "." + r.step()), r -> "step " + r.job() + "." + r.step());
    }

    /** For messages and tests: the steps of a shard list as {@code JOB.STEP}. */
    static List<String> stepIds(List<LaunchedShard> shards) {
        return shards.stream().filter(s -> s.handle().containsKey(JOB) && s.handle().containsKey(STEP))
                .map(s -> s.handle().get(JOB) + "." + s.handle().get(STEP)).toList();
    }
}
