package io.smartsim.launch.batch;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.PortSearch;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.LauncherContext;
import io.smartsim.launch.spi.Leasable;
import io.smartsim.launch.spi.PortChooser;
import io.smartsim.launch.spi.Restartable;
import io.smartsim.launch.util.ListeningPorts;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What every batch-scheduler launcher is besides its dialect: where its commands run (the transport its context gives
 * for its options: this machine, or a login node with {@code remote=user@host}), the existing allocation
 * it runs in (its option, or the scheduler's job id variable in this process's environment), placement on the
 * allocation's nodes or on the nodes of a batch job not yet run, and {@code --port auto} over the nodes' listening
 * sockets. Shards run through a wrapper that reports where it landed ({@link BatchStart}, {@link BatchRestart}), so it
 * can restart one ({@link Restartable}: a dead shard's wrapper again, on its node in its job) and lease
 * ({@link Leasable}: the wrapper starts a lease guard before it execs the server; the lease file is on the shared file
 * system).
 */
public abstract class BatchLauncher implements Restartable, Leasable, PortChooser {
    private final String name;
    /** Where its commands run and what environment it reads. */
    protected final LauncherContext context;
    /** The context's environment (this process's, or the one a test gives), where the job id variable is read. */
    protected final Map<String, String> env;

    /**
     * @param name    the launcher's name ({@code slurm}, {@code pbs})
     * @param context where scheduler commands run (for each spec's options) and where its job variables are read
     */
    protected BatchLauncher(String name, LauncherContext context) {
        this.name = Objects.requireNonNull(name, "name");
        this.context = Objects.requireNonNull(context, "context");
        this.env = context.env();
    }

    /** This launcher working in {@code context}. */
    @Override
    public abstract BatchLauncher in(LauncherContext context);

    @Override
    public final String name() {
        return name;
    }

    /** The transport for a spec's options, or for a shard's recorded handle, as the context gives it. */
    protected final CommandRunner runner(Map<String, String> options) {
        return context.transports().open(options);
    }

    /** The transport of a list of shards (they share one), or empty for none. */
    protected final Optional<CommandRunner> runner(List<LaunchedShard> shards) {
        return shards.isEmpty() ? Optional.empty() : Optional.of(runner(shards.get(0).handle()));
    }

    /** The transport the context gives for the spec's options: where its files and checkpoint data are. */
    @Override
    public final CommandRunner transport(OrchestratorSpec spec) {
        return runner(spec.launcherOptions());
    }

    /**
     * Each shard's liveness as its scheduler tells it ({@link #probe(CommandRunner, List)}), after forwarding their
     * addresses over a remote transport: the health check that follows status's probe reaches the shards through it.
     */
    @Override
    public final Map<Integer, Liveness> probe(List<LaunchedShard> shards) {
        Optional<CommandRunner> runner = runner(shards);
        if (runner.isEmpty()) {
            return new LinkedHashMap<>();
        }
        reach(shards);
        return probe(runner.get(), shards);
    }

    /** The scheduler's side of {@link #probe(List)}: by shard index, through {@code runner}; never throws. */
    protected abstract Map<Integer, Liveness> probe(CommandRunner runner, List<LaunchedShard> shards);

    /** Forwards, over a remote transport, the address of each recorded shard that has one ({@link #reported}). */
    @Override
    public void reach(List<LaunchedShard> shards) {
        runner(shards).ifPresent(runner -> shards.stream().filter(this::reported)
                .forEach(s -> runner.expose(s.host(), s.port())));
    }

    /** Whether a recorded shard's address is where it runs (it reported), not only where it was planned. */
    protected boolean reported(LaunchedShard s) {
        return true;
    }

    /**
     * The existing allocation: {@code alloc} when given, else {@code variable} ({@code SLURM_JOB_ID}) in the
     * environment; otherwise an {@link InvalidSpecException} on {@code launcherOptions.alloc}, saying that this is not
     * {@code inside} ("a Slurm allocation") and {@code how} to be ("run inside salloc or sbatch, pass the allocation's
     * job id").
     */
    protected final String allocation(Optional<String> alloc, String variable, String inside, String how) {
        return alloc.or(() -> Optional.ofNullable(env.get(variable)).filter(s -> !s.isBlank()))
                .orElseThrow(() -> new InvalidSpecException("launcherOptions.alloc", "not inside " + inside + " ("
                        + variable + " is not set) and no alloc=JOBID given; " + how + ", or use batch=true"));
    }

    /** The nodes of a batch job are only known once it runs; each slot is its own host, so ports repeat per node. */
    protected static Placement batchPlacement(OrchestratorSpec spec) {
        List<Placement.Node> nodes = new ArrayList<>();
        for (int n = 0; n < spec.nodes(); n++) {
            nodes.add(new Placement.Node("batch-node-" + n, List.of()));
        }
        return new Placement(nodes);
    }

    /**
     * The spec's nodes on the first of {@code hosts}, the nodes of {@code job} ("allocation 34", "job 7.server") as
     * {@code source} lists them; refused by name when there are fewer than the spec asks for.
     */
    protected static Placement onHosts(OrchestratorSpec spec, List<String> hosts, String job, String source,
                                       String larger) {
        if (hosts.size() < spec.nodes()) {
            throw new InvalidSpecException("nodes", job + " has " + hosts.size() + " node(s) (" + source + ") but the "
                    + "spec asks for " + spec.nodes() + " x " + spec.instancesPerNode() + " per node; use --nodes "
                    + hosts.size() + " or a larger " + larger);
        }
        List<Placement.Node> nodes = new ArrayList<>();
        for (int n = 0; n < spec.nodes(); n++) {
            nodes.add(new Placement.Node(hosts.get(n), List.of())); // bound at launch: only the node knows its address
        }
        return new Placement(nodes);
    }

    /** {@code --port auto} with {@code batch=true}: refused by name, saying where it works ({@code inside}). */
    protected static InvalidSpecException noAutoPortInBatch(String inside) {
        return new InvalidSpecException("port", "--port auto is not available with batch=true: the batch job's "
                + "nodes are only known once it runs, after its ports are planned; give a fixed base port, for "
                + "example --port " + OrchestratorSpec.DEFAULT_PORT + ", or " + inside + " where the nodes' free ports "
                + "can be read first");
    }

    /**
     * {@code --port auto}: the lowest base port from the spec's up at which every node's shards, bus ports and
     * {@code --ai} server ports are free, given each node's listening sockets (any address: the node picks its
     * shards' address only at launch). {@code where} names the nodes in the error when no base is free.
     */
    protected static OrchestratorSpec lowestFree(OrchestratorSpec spec, Placement placement,
                                                 Map<String, Set<ListeningPorts.Listener>> listeners, String where) {
        return PortSearch.choose(spec, placement, (host, port) -> listeners.get(host).stream()
                .anyMatch(l -> l.port() == port), where + " (listening sockets on any address)");
    }

    /** The first planned port some node already listens on, if any. */
    protected static Optional<PortSearch.Taken> firstTaken(LaunchPlan plan,
                                                           Map<String, Set<ListeningPorts.Listener>> listeners) {
        return PortSearch.firstTaken(plan, (host, port) -> listeners.getOrDefault(host, Set.of()).stream()
                .anyMatch(l -> l.port() == port));
    }
}
