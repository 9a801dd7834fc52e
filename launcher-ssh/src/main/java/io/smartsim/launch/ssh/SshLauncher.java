package io.smartsim.launch.ssh;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.error.SchedulerUnreachableException;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.PlanFiles;
import io.smartsim.launch.plan.PortSearch;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.spi.TlsFiles;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.spi.Leasable;
import io.smartsim.launch.spi.PortChooser;
import io.smartsim.launch.cluster.ReadinessWait;
import io.smartsim.launch.spi.Restartable;
import io.smartsim.launch.supervise.Lease;
import io.smartsim.launch.supervise.LeaseGuard;
import io.smartsim.launch.util.Backoff;
import io.smartsim.launch.util.Deadline;
import io.smartsim.launch.util.ListeningPorts;
import io.smartsim.launch.util.Parallel;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Starts shards on plain hosts over SSH, for machines without a workload manager (cloud VMs, workstations).
 * Node i of the spec is host i of {@code hosts}; each host runs {@code instancesPerNode} shards bound to the
 * host's address (its name resolved here), on the same ports on every host. Config files are written through
 * SSH (the experiment directory's path is created on each host; a shared file system sees the same files), each
 * shard is started detached ({@code nohup setsid}) and reports its pid, and readiness is a {@code PING} from here.
 * Status is one {@code ps} per host; stop, after core's {@code SHUTDOWN NOSAVE}, signals what is left.
 * Each shard records the host and the SSH settings, so {@code db status|stop} reconnect from the manifest.
 * Supervision: {@link #restart} starts one shard again on its host; under {@code --lease} each host gets the guard
 * script and its own copy of the lease file, and {@link #pushLease} writes each renewal there (docs/supervision.md).
 */
public final class SshLauncher implements Restartable, Leasable.GuardWatch, PortChooser {
    public static final String NAME = "ssh";
    /** Bound for one remote command (write a config, start a host's shards, one ps). */
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    /** How often the wait for PING also asks the hosts whether the processes still exist. */
    private static final Duration LIVENESS_EVERY = Duration.ofMillis(500);
    private static final Duration KILL_GRACE = Duration.ofSeconds(5);
    static final String HANDLE_HOST = "ssh-host";
    /**
     * Where the shard runs, as the dashboard, {@code db status --json} and {@code /metrics} name it: the host part of
     * its SSH destination ({@code user@n1:2222} -> {@code n1}; an ssh config alias as given). Before, the plan's node
     * index ("0"), which stays in the plan ({@code ShardPlan.node()}).
     */
    static final String HANDLE_NODE = "node";
    /** The key of a shard's lease guard pid (on its host) in its recorded handle. */
    static final String HANDLE_GUARD = "leaseGuardPid";

    /** How long {@link #probe}'s SSH sessions are kept without a probe before they are closed. */
    static final Duration PROBE_KEEP = Duration.ofSeconds(3);
    private static final ScheduledExecutorService PROBE_CLOSER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ssh-probe-sessions");
        t.setDaemon(true);
        return t;
    });
    /**
     * How often {@link #missingGuards} looks at the hosts (one {@code ps} per host, over the probe's kept sessions):
     * the watchdog asks every second, which on ssh would double the probe's SSH traffic.
     */
    static final Duration GUARD_CHECK_EVERY = Duration.ofSeconds(5);
    private long nextGuardCheck = System.nanoTime();
    private final Object probeLock = new Object();
    private Hosts probeHosts;
    private String probeKey;
    private long probeUsed;

    /** Sessions preflight opened, handed to the start that follows it (one handshake per host, not two). */
    private final Map<SshOptions, Hosts> preflighted = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Placement place(OrchestratorSpec spec) {
        SshOptions opts = SshOptions.parse(spec.launcherOptions());
        if (opts.hosts().size() != spec.nodes()) {
            throw new InvalidSpecException("nodes", "the ssh launcher runs one node per host, but --nodes is "
                    + spec.nodes() + " and --hosts names " + opts.hosts().size() + " host(s) (" + String.join(",",
                    opts.hosts()) + "); give --nodes " + opts.hosts().size() + " or list " + spec.nodes() + " host(s)");
        }
        if (!spec.interfaces().isEmpty()) {
            throw new InvalidSpecException("interfaces", "the ssh launcher binds each shard to the address its host "
                    + "name resolves to; --interface " + String.join(",", spec.interfaces()) + " is not supported "
                    + "with it yet: list the hosts by the address (or name) of the network to use instead");
        }
        SshConfigResolver resolver = SshConfigResolver.forUser(opts.flags().configFile());
        List<Placement.Node> nodes = new ArrayList<>();
        for (String h : opts.hosts()) {
            String address = addressOf(resolver.resolve(h, opts.flags()));
            // The address names the machine: two aliases of one host share its ports, as the planner requires.
            nodes.add(new Placement.Node(address, List.of(address)));
        }
        // --ai: the Redis module in each shard and one model server per host, started over SSH (SshModelServers)
        return new Placement(nodes);
    }

    /**
     * {@code --port auto}: each host's listening TCP sockets, read from its {@code /proc/net/tcp} and {@code tcp6}
     * over SSH (one command per host, side by side), then the lowest base port from the spec's up at which every
     * host's shards, with their bus ports, are free ({@link PortSearch}). A socket counts when it listens on the
     * host's address or on every address.
     */
    @Override
    public OrchestratorSpec choosePorts(OrchestratorSpec spec) {
        if (!spec.autoPort()) {
            return spec;
        }
        Placement placement = place(spec);
        SshOptions opts = SshOptions.parse(spec.launcherOptions());
        Map<String, List<String>> bindAddresses = new LinkedHashMap<>();
        Map<String, Host> byAddress = new LinkedHashMap<>();
        try (Hosts hosts = Hosts.of(opts)) {
            for (int n = 0; n < placement.nodes().size(); n++) {
                Placement.Node node = placement.nodes().get(n);
                bindAddresses.put(node.host(), node.bindAddresses());
                byAddress.putIfAbsent(node.host(), hosts.list().get(n));
            }
            Map<String, java.util.Set<ListeningPorts.Listener>> listeners = new LinkedHashMap<>();
            Parallel.map(new ArrayList<>(byAddress.entrySet()), e -> {
                Host h = e.getValue();
                CommandResult r = h.runner().run(ListeningPorts.command(e.getKey()), COMMAND_TIMEOUT);
                Map<String, java.util.Set<ListeningPorts.Listener>> got = r.ok() ? ListeningPorts.parse(r.stdout())
                        : Map.of();
                if (!got.containsKey(e.getKey())) {
                    throw new InvalidSpecException("port", "--port auto reads each host's listening ports from "
                            + "/proc/net/tcp, which failed on host " + h.name() + " (" + h.runner().where() + "): "
                            + r.describe() + "; give a fixed base port, for example --port "
                            + OrchestratorSpec.DEFAULT_PORT);
                }
                return got;
            }).forEach(listeners::putAll);
            PortSearch.Busy busy = (host, port) -> listeners.get(host).stream()
                    .anyMatch(l -> l.blocks(bindAddresses.get(host), port));
            return PortSearch.choose(spec, placement, busy, "host(s) " + String.join(",", opts.hosts())
                    + " (listening sockets read over SSH)");
        }
    }

    /** The host's address as resolved here: clients, other shards and this process reach the shard there. */
    static String addressOf(SshTarget t) {
        try {
            return InetAddress.getByName(t.hostName()).getHostAddress();
        } catch (UnknownHostException e) {
            throw new InvalidSpecException("launcherOptions.hosts", "host " + t.alias() + (t.hostName().equals(t.alias())
                    ? "" : " (HostName " + t.hostName() + ")") + " does not resolve to an address here; check the "
                    + "name, /etc/hosts or DNS");
        }
    }

    @Override
    public void preflight(LaunchPlan plan) {
        SshOptions opts = SshOptions.parse(plan.spec().launcherOptions());
        for (ShardPlan s : plan.shards()) {
            for (int port : plan.clustered() ? List.of(s.port(), s.busPort()) : List.of(s.port())) {
                if (listening(s.advertisedAddress(), port)) {
                    throw new InvalidSpecException("port", plan.spec().nodes() + " host(s) x "
                            + plan.processesPerNode() + " per host = " + plan.shards().size()
                            + " shard(s) use ports " + plan.spec().port() + "-" + (plan.spec().port()
                            + plan.processesPerNode() - 1) + (plan.clustered() ? " and bus ports +10000" : "")
                            + ", but " + s.advertisedAddress() + ":" + port + " (host " + opts.hosts().get(s.node())
                            + ") already accepts connections" + heldOn(opts, s.node(), port).map(h -> " (" + h + ")")
                            .orElse("") + "; stop what holds it, choose another --port, or --port auto");
                }
            }
        }
        Deadline deadline = Deadline.after(COMMAND_TIMEOUT);
        Hosts hosts = Hosts.of(opts);
        try {
            String binary = binary(plan);
            Parallel.map(hosts.list(), h -> {
                CommandResult r = h.runner().run(SshCommands.which(binary), timeout(deadline));
                if (!r.ok()) {
                    throw new InvalidSpecException(plan.spec().serverBinary().isPresent() ? "serverBinary" : "backend",
                            binary + " was not found on host " + h.name() + " (" + h.runner().where() + ", PATH of a "
                            + "non-interactive SSH login); " + (plan.spec().serverBinary().isPresent()
                            ? "give its path on the hosts" : plan.spec().backend().installHint() + " on each host"));
                }
                return h;
            });
            if (plan.spec().checkpoint().isPresent()) {
                sharedFileSystem(plan, hosts, deadline);
            }
            // --ai: each host runs its model server from the AI directory at the paths it has here
            SshModelServers.check(plan, hosts.list(), timeout(deadline));
            Hosts previous = preflighted.put(opts, hosts);
            if (previous != null) {
                previous.close();
            }
        } catch (RuntimeException e) {
            hosts.close();
            throw e;
        }
    }

    /** Who holds {@code port} on the host of node {@code node}, as that host tells over SSH; empty if it cannot. */
    private static Optional<String> heldOn(SshOptions opts, int node, int port) {
        SshConfigResolver resolver = SshConfigResolver.forUser(opts.flags().configFile());
        try (SshCommandRunner r = new SshCommandRunner(resolver.resolve(opts.hosts().get(node), opts.flags()))) {
            CommandResult res = r.run(ListeningPorts.owners(port), COMMAND_TIMEOUT);
            return res.ok() ? ListeningPorts.heldBy(res.stdout()) : Optional.empty();
        } catch (LaunchException e) {
            return Optional.empty(); // the refusal stands; only the name of the holder is missing
        }
    }

    /**
     * With {@code --checkpoint}, each host writes its shards' data under the experiment directory at the same path as
     * here, and {@code db start --resume} and {@code db stop} look at that data on this machine: so every host must
     * see this machine's experiment directory (a shared file system). Checked with a file of a random token written
     * here and read back on each host; refused, naming the hosts that do not see it, before anything starts.
     */
    private static void sharedFileSystem(LaunchPlan plan, Hosts hosts, Deadline deadline) {
        String token = java.util.UUID.randomUUID().toString();
        java.nio.file.Path probe = plan.expDir().resolve(".shared-fs-" + token);
        try {
            java.nio.file.Files.createDirectories(plan.expDir());
            java.nio.file.Files.writeString(probe, token + "\n");
        } catch (IOException e) {
            throw new LaunchException("cannot write " + probe + " to check that the hosts share "
                    + "the experiment directory: " + e.getMessage(), e);
        }
        try {
            List<String> blind = Parallel.map(hosts.list(), h -> h.runner().readFile(probe, timeout(deadline))
                    .map(String::strip).filter(token::equals).isPresent() ? "" : h.name()).stream()
                    .filter(n -> !n.isEmpty()).toList();
            if (!blind.isEmpty()) {
                throw new InvalidSpecException("checkpoint", "--checkpoint with the ssh launcher needs the experiment "
                        + "directory " + plan.expDir() + " on a file system this machine and every host share (the "
                        + "shards write their data there, and db stop / db start --resume look at it here), but "
                        + "host(s) " + String.join(", ", blind) + " do not see " + probe + "; give an --exp-dir on the "
                        + "shared file system, or leave out --checkpoint");
            }
        } finally {
            try {
                java.nio.file.Files.deleteIfExists(probe);
            } catch (IOException e) {
                // a stray empty probe file does no harm
            }
        }
    }

    private static boolean listening(String address, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, port), 300);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String binary(LaunchPlan plan) {
        return plan.spec().serverBinary().map(Object::toString).orElse(plan.spec().backend().binaryName());
    }

    private static Duration timeout(Deadline d) {
        return Duration.ofMillis(d.capMillis(COMMAND_TIMEOUT));
    }

    @Override
    public List<LaunchedShard> start(LaunchPlan plan, LaunchContext ctx) {
        SshOptions opts = SshOptions.parse(plan.spec().launcherOptions());
        Deadline deadline = ctx.deadline();
        String binary = binary(plan);
        Map<Integer, List<ShardPlan>> byNode = new TreeMap<>();
        plan.shards().forEach(s -> byNode.computeIfAbsent(s.node(), n -> new ArrayList<>()).add(s));
        List<LaunchedShard> launched = new ArrayList<>();
        List<SshModelServers.Running> servers = new ArrayList<>();
        Hosts reused = preflighted.remove(opts);
        try (Hosts hosts = reused != null ? reused : Hosts.of(opts)) {
            try {
                // --ai: each host's model server first, ready (warmed up) before any shard loads the module
                List<SshModelServers.Running> running = SshModelServers.start(plan, hosts.list(), deadline, servers);
                running.forEach(r -> ctx.progress().accept("--ai model server " + r.plan().index() + " started on "
                        + r.host().name() + " (pid " + r.pid() + ", socket " + r.plan().socket() + ")"));
                plan.tls().ifPresent(t -> ctx.progress().accept("copying the TLS certificate and key to "
                        + byNode.size() + " host(s) over SSH (" + t.dir() + ", owner-only)"));
                // Per host, side by side: write its configs, then start its shards with one command.
                List<HostStart> outcomes = Parallel.map(new ArrayList<>(byNode.keySet()), node -> {
                    Host h = hosts.list().get(node);
                    List<ShardPlan> shards = byNode.get(node);
                    try {
                        // --tls: the hosts may not share this machine's file system; same paths as here.
                        plan.tls().ifPresent(t -> TlsFiles.copy(t, h.runner(), timeout(deadline)));
                        for (ShardPlan s : shards) {
                            h.runner().writeFile(s.configPath().toString(), s.config(), timeout(deadline));
                        }
                        writeLease(plan, h, timeout(deadline));
                        for (SshModelServers.Running ms : running) {
                            if (ms.host() == h) {
                                SshModelServers.guard(plan, ms, timeout(deadline));
                            }
                        }
                        List<SshCommands.Start> starts = shards.stream().map(s -> new SshCommands.Start(
                                s.workDir().toString(), s.configPath().toString(), PlanFiles.consoleLog(s).toString(),
                                s.workDir().resolve("nodes-" + s.port() + ".conf").toString(), s.logPath().toString(),
                                plan.clustered() ? s.advertisedAddress() : "", SshCommands.marker(s.name(), s.port())))
                                .toList();
                        CommandResult r = h.runner().run(SshCommands.start(binary, starts), timeout(deadline));
                        List<Long> pids = r.ok() ? parsePids(r) : List.of();
                        if (!r.ok() || pids.size() != shards.size()) {
                            return new HostStart(h, shards, pids, List.of(), new ShardStartException("could not start the "
                                    + "shards of '" + plan.id() + "' on host " + h.name() + ": " + r.describe()));
                        }
                        try {
                            return new HostStart(h, shards, pids, startGuards(plan, h, shards, pids, timeout(deadline)),
                                    null);
                        } catch (LaunchException e) {
                            return new HostStart(h, shards, pids, List.of(), e);
                        }
                    } catch (LaunchException e) {
                        return new HostStart(h, shards, List.of(), List.of(), e);
                    }
                });
                LaunchException failure = null;
                for (HostStart o : outcomes) {
                    for (int i = 0; i < o.pids().size(); i++) {
                        ShardPlan s = o.shards().get(i);
                        Map<String, String> handle = handle(opts, o.host(), s);
                        running.stream().filter(r -> r.plan().shards().contains(s.index())).findFirst()
                                .ifPresent(r -> handle.putAll(r.handle())); // stopped after the shard
                        if (i < o.guards().size()) {
                            handle.put(HANDLE_GUARD, Long.toString(o.guards().get(i)));
                        }
                        LaunchedShard ls = new LaunchedShard(s.index(), s.name(), s.advertisedAddress(), s.port(),
                                Optional.of(o.pids().get(i)), Optional.empty(), handle);
                        launched.add(ls);
                        ctx.spawned().accept(ls);
                        ctx.progress().accept("shard " + s.index() + " started on " + o.host().name() + " (pid "
                                + o.pids().get(i) + ")");
                    }
                    if (o.failure() != null && failure == null) {
                        failure = o.failure();
                    }
                }
                if (failure != null) {
                    throw failure;
                }
                launched.sort(java.util.Comparator.comparingInt(LaunchedShard::index));
                awaitPing(plan, launched, hosts, ctx);
                return List.copyOf(launched);
            } catch (RuntimeException e) {
                throw cleanUp(plan, launched, servers, hosts, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw cleanUp(plan, launched, servers, hosts, new LaunchException("interrupted while starting '"
                        + plan.id() + "'", e));
            }
        }
    }

    /**
     * Under {@code --lease}: the guard script, and the lease to the same paths on the host. The expiry sent is the one
     * written here or a whole lease from now, whichever is later: the start's keeper renews from before the first
     * shard, but this host is not among its targets until its shards have started, and an expiry read here can be
     * seconds old by the time a slow SSH command lands it (a busy machine); a guard that started on a stale expiry
     * would stop its shard at once. Never replaces a later expiry on the host ({@link Lease#push}).
     */
    private static void writeLease(LaunchPlan plan, Host h, Duration timeout) {
        if (plan.spec().lease().isEmpty()) {
            return;
        }
        Lease lease = Lease.in(plan.dir());
        Instant fresh = Instant.ofEpochSecond(Instant.now().plus(plan.spec().lease().get()).plusMillis(999)
                .getEpochSecond());
        Instant expiry = lease.expiry().filter(e -> e.isAfter(fresh)).orElse(fresh);
        h.runner().writeFile(LeaseGuard.path(plan).toString(), LeaseGuard.render(plan), timeout);
        lease.push(h.runner(), expiry, timeout);
    }

    /** Under {@code --lease}: one guard per shard beside it on its host, one SSH command; their pids, in order. */
    private static List<Long> startGuards(LaunchPlan plan, Host h, List<ShardPlan> shards, List<Long> pids,
                                          Duration timeout) {
        if (plan.spec().lease().isEmpty()) {
            return List.of();
        }
        List<SshCommands.Guard> guards = new ArrayList<>();
        for (int i = 0; i < shards.size(); i++) {
            ShardPlan s = shards.get(i);
            guards.add(new SshCommands.Guard(pids.get(i), s.index(), s.workDir().resolve(s.name() + ".lease.out")
                    .toString()));
        }
        CommandResult r = h.runner().run(SshCommands.guards(LeaseGuard.path(plan).toString(), guards), timeout);
        List<Long> out = r.ok() ? parsePids(r) : List.of();
        if (out.size() != shards.size()) {
            throw new ShardStartException("could not start the lease guards of '" + plan.id() + "' on host " + h.name()
                    + " (is /bin/bash there?): " + r.describe());
        }
        return out;
    }

    /**
     * Writes the renewed expiry to the lease file on every host of {@code shards}, side by side: one SSH command per
     * host. A host that cannot be reached keeps its previous expiry, so its shards stop then unless a later renewal
     * gets through; the exception names those hosts after every host was tried.
     */
    @Override
    public void pushLease(LaunchPlan plan, List<LaunchedShard> shards, Instant expiry) {
        pushLease(plan, shards, expiry, COMMAND_TIMEOUT);
    }

    /** One group per SSH host (its address and settings): each renewal reaches each host on its own. */
    @Override
    public Map<String, List<LaunchedShard>> leaseTargets(List<LaunchedShard> shards) {
        Map<String, List<LaunchedShard>> out = new LinkedHashMap<>();
        shards.forEach(s -> out.computeIfAbsent(Hosts.key(s), k -> new ArrayList<>()).add(s));
        return out;
    }

    /** As {@link #pushLease(LaunchPlan, List, Instant)}, giving up on a host after {@code timeout}. */
    @Override
    public void pushLease(LaunchPlan plan, List<LaunchedShard> shards, Instant expiry, Duration timeout) {
        if (shards.isEmpty()) {
            return;
        }
        Lease lease = Lease.in(plan.dir());
        try (Hosts hosts = Hosts.recorded(shards)) {
            List<String> failed = Parallel.map(new ArrayList<>(hosts.group(shards).keySet()), h -> {
                try {
                    lease.push(h.runner(), expiry, timeout);
                    return "";
                } catch (LaunchException e) {
                    return "host " + h.name() + ": " + e.getMessage();
                }
            }).stream().filter(m -> !m.isEmpty()).toList();
            if (!failed.isEmpty()) {
                throw new SchedulerUnreachableException("the lease of '" + plan.id() + "' was renewed to " + expiry
                        + " here but not on every host; their shards stop at the previous expiry unless a later "
                        + "renewal gets through: " + String.join("; ", failed));
            }
        }
    }

    /**
     * Under {@code --ai}: each host's model server that is gone started again on that host
     * ({@link SshModelServers#revive}); the shards whose records now name the new one. The watchdog asks every second:
     * the look goes over the probe's kept sessions (one {@code ps} per host, no new SSH login), and only a model
     * server found gone (or a host that did not answer) opens sessions of its own for the start.
     */
    @Override
    public List<LaunchedShard> reviveModelServers(LaunchPlan plan, List<LaunchedShard> shards, LaunchContext ctx) {
        if (plan.modelServers().isEmpty() || shards.isEmpty()) {
            return List.of();
        }
        synchronized (probeLock) {
            Map<Integer, Liveness> live = SshModelServers.probe(shards, keptSessions(shards, System.nanoTime()));
            boolean allRecordedAndAlive = shards.stream().allMatch(s -> !plan.modelServerOf(s.index()).isPresent()
                    || live.get(s.index()) == Liveness.ALIVE);
            if (allRecordedAndAlive) {
                return List.of();
            }
        }
        try (Hosts hosts = Hosts.recorded(shards)) {
            return SshModelServers.revive(plan, shards, hosts, ctx.deadline());
        }
    }

    /** Under {@code --ai}: whether each shard's recorded model server runs on its host (one {@code ps} per host). */
    @Override
    public Map<Integer, Liveness> probeModelServers(LaunchPlan plan, List<LaunchedShard> shards) {
        if (shards.stream().noneMatch(s -> s.handle().containsKey(io.smartsim.launch.plan.AiPlanner.HANDLE_PID))) {
            return Map.of();
        }
        try (Hosts hosts = Hosts.recorded(shards)) {
            return SshModelServers.probe(shards, hosts);
        }
    }

    /**
     * Starts the dead shard again on its host and port, over that host's SSH session, as {@link #start} does for one
     * shard but without removing its cluster state file ({@code nodes-<port>.conf}, which it rejoins with) or its log
     * (which has the previous run's last words); its lease guard too under {@code --lease}. A process still holding
     * the shard (a hung one) is killed first.
     */
    @Override
    public LaunchedShard restart(LaunchPlan plan, LaunchedShard dead, LaunchContext ctx) {
        ShardPlan s = plan.shards().get(dead.index());
        try (Hosts hosts = Hosts.recorded(List.of(dead))) {
            Host h = hosts.forShard(dead);
            LaunchedShard started = null;
            try {
                if (dead.pid().isPresent() && !alive(h, List.of(dead)).isEmpty()) {
                    h.runner().run(SshCommands.killShards("KILL", List.of(dead.pid().get())), COMMAND_TIMEOUT);
                    waitGone(h, List.of(dead), KILL_GRACE);
                }
                // --ai: the module needs its host's model server: the recorded one if it runs, else one started again
                Map<String, String> ai = SshModelServers.ensure(plan, dead, h, ctx.deadline());
                Duration t = timeout(ctx.deadline());
                SshCommands.Start one = new SshCommands.Start(s.workDir().toString(), s.configPath().toString(),
                        PlanFiles.consoleLog(s).toString(), "", "", plan.clustered() ? s.advertisedAddress() : "",
                        SshCommands.marker(s.name(), s.port()));
                CommandResult r = h.runner().run(SshCommands.start(binary(plan), List.of(one)), t);
                List<Long> pids = r.ok() ? parsePids(r) : List.of();
                if (pids.size() != 1) {
                    throw new ShardStartException("could not restart shard " + s.index() + " (" + s.name() + ") of '"
                            + plan.id() + "' on host " + h.name() + ": " + r.describe());
                }
                Map<String, String> handle = new LinkedHashMap<>(dead.handle());
                handle.remove(HANDLE_GUARD);
                handle.putAll(ai);
                started = new LaunchedShard(s.index(), s.name(), s.advertisedAddress(), s.port(),
                        Optional.of(pids.get(0)), Optional.empty(), handle);
                List<Long> guard = startGuards(plan, h, List.of(s), pids, timeout(ctx.deadline()));
                if (!guard.isEmpty()) {
                    handle.put(HANDLE_GUARD, Long.toString(guard.get(0)));
                    started = new LaunchedShard(s.index(), s.name(), s.advertisedAddress(), s.port(),
                            Optional.of(pids.get(0)), Optional.empty(), handle);
                }
                ctx.spawned().accept(started);
                ctx.progress().accept("shard " + s.index() + " restarted on " + h.name() + " (pid " + pids.get(0) + ")");
                awaitPing(plan, List.of(started), hosts, ctx);
                return started;
            } catch (RuntimeException e) {
                throw cleanUp(plan, started == null ? List.of() : List.of(started), hosts, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw cleanUp(plan, started == null ? List.of() : List.of(started), hosts, new LaunchException(
                        "interrupted while restarting shard " + s.index() + " of '" + plan.id() + "'", e));
            }
        }
    }

    private static List<Long> parsePids(CommandResult r) {
        try {
            return SshCommands.parsePids(r.stdout());
        } catch (NumberFormatException e) {
            return List.of();
        }
    }

    private static Map<String, String> handle(SshOptions opts, Host h, ShardPlan s) {
        Map<String, String> m = new LinkedHashMap<>(opts.recorded());
        m.put(HANDLE_HOST, h.name());
        m.put(HANDLE_NODE, SshConfigResolver.Destination.parse(h.name()).host());
        return m;
    }

    /** Stops what this launch started (best effort, with a short grace), then returns the failure to throw. */
    private static LaunchException cleanUp(LaunchPlan plan, List<LaunchedShard> launched, Hosts hosts, RuntimeException e) {
        return cleanUp(plan, launched, List.of(), hosts, e);
    }

    /** As above, also stopping the model servers this launch started ({@code --ai}), after the shards. */
    private static LaunchException cleanUp(LaunchPlan plan, List<LaunchedShard> launched,
                                           List<SshModelServers.Running> servers, Hosts hosts, RuntimeException e) {
        LaunchException failure = e instanceof LaunchException le ? le
                : new LaunchException("orchestrator '" + plan.id() + "' failed to start: " + e, e);
        if (launched.isEmpty()) {
            SshModelServers.stopStarted(servers);
            return failure;
        }
        List<String> left = terminate(launched, hosts, Duration.ZERO);
        SshModelServers.stopStarted(servers); // those no launched shard records yet
        if (left.isEmpty()) {
            return failure;
        }
        // Could not make sure: the caller's db stop (from the manifest) finishes the job once the host answers.
        String msg = failure.getMessage() + "\nCould not stop every shard of this launch: " + String.join("; ", left)
                + ". They are recorded in the manifest: run db stop once the host is reachable.";
        return failure instanceof SchedulerUnreachableException ? new SchedulerUnreachableException(msg, failure)
                : new LaunchException(msg, failure);
    }

    private void awaitPing(LaunchPlan plan, List<LaunchedShard> shards, Hosts hosts, LaunchContext ctx)
            throws InterruptedException {
        ReadinessWait wait = ReadinessWait.of(plan, ctx, shards.stream()
                .map(s -> ReadinessWait.Shard.at(s, Optional::empty)).toList());
        wait.polling(Duration.ofMillis(2), Duration.ofMillis(50))
                // Fail fast when a process died (a bad config line, a port taken meanwhile), with its log; once before
                // the first PING too, so a start never succeeds without its processes seen alive over SSH.
                .everyFromStart(LIVENESS_EVERY, () -> {
                    Map<Integer, Liveness> live = probe(shards, hosts, true);
                    for (int i = 0; i < shards.size(); i++) {
                        if (!wait.up(i) && live.get(shards.get(i).index()) == Liveness.GONE) {
                            throw died(plan, shards.get(i), hosts);
                        }
                    }
                })
                .timeout(late -> ReadinessWait.notUp(plan, shards.size(), late, "did not answer PING",
                        "every shard was stopped", (i, ls) -> "shard " + shards.get(i).index() + " at "
                                + shards.get(i).address() + "\n"
                                + remoteTail(plan.shards().get(shards.get(i).index()), hosts, shards.get(i))))
                .await();
    }

    private static ShardStartException died(LaunchPlan plan, LaunchedShard s, Hosts hosts) {
        ShardPlan p = plan.shards().get(s.index());
        return new ShardStartException("shard " + s.index() + " (" + s.name() + ") of '" + plan.id() + "' on host "
                + s.handle().get(HANDLE_HOST) + " port " + s.port() + " exited while starting; every shard of this "
                + "launch was stopped.\n" + remoteTail(p, hosts, s) + guardSaid(plan, hosts, s));
    }

    /**
     * Under {@code --lease}: the last events its host's guard appended, since a guard that saw the lease run out stops
     * its shard as if it had died; empty otherwise, or when nothing can be read.
     */
    private static String guardSaid(LaunchPlan plan, Hosts hosts, LaunchedShard s) {
        if (plan.spec().lease().isEmpty()) {
            return "";
        }
        String file = io.smartsim.launch.supervise.EventLog.in(plan.dir()).file().toString();
        try {
            CommandResult r = hosts.forShard(s).runner().run(SshCommands.tail(file, 4), Duration.ofSeconds(5));
            return r.ok() && r.stdout().contains("lease-expired") ? "  last events on that host (" + file + "):\n    "
                    + String.join("\n    ", r.stdout().strip().split("\n")) + "\n" : "";
        } catch (LaunchException e) {
            return "";
        }
    }

    /** The last lines of a shard's log and console on its host, for messages; never throws. */
    private static String remoteTail(ShardPlan p, Hosts hosts, LaunchedShard s) {
        StringBuilder b = new StringBuilder();
        for (String file : List.of(p.logPath().toString(), PlanFiles.consoleLog(p).toString())) {
            try {
                CommandResult r = hosts.forShard(s).runner().run(SshCommands.tail(file, 8), Duration.ofSeconds(5));
                b.append(r.ok() && !r.stdout().isBlank()
                        ? "  last lines of " + file + ":\n    " + String.join("\n    ", r.stdout().strip().split("\n"))
                        : "  (" + file + " is empty or missing)").append('\n');
            } catch (LaunchException e) {
                b.append("  (could not read ").append(file).append(": ").append(e.getMessage()).append(")\n");
            }
        }
        return b.toString().stripTrailing();
    }

    /**
     * One {@code ps} per host. The SSH sessions are kept for the next probe of the same hosts and closed once no probe
     * has used them for {@link #PROBE_KEEP}: a watchdog probes every second, and a new session per host per second
     * would cost each host an SSH login (a handshake and an auth log line) every second.
     */
    @Override
    public Map<Integer, Liveness> probe(List<LaunchedShard> shards) {
        if (shards.isEmpty()) {
            return Map.of();
        }
        synchronized (probeLock) {
            return probe(shards, keptSessions(shards, System.nanoTime()), false);
        }
    }

    /**
     * The sessions probes and guard checks keep open to the shards' hosts (opened again when the hosts change, closed
     * once idle); marks them used at {@code now}. Call holding {@code probeLock}.
     */
    private Hosts keptSessions(List<LaunchedShard> shards, long now) {
        String key = shards.stream().map(Hosts::key).distinct().sorted().toList().toString();
        if (probeHosts == null || !key.equals(probeKey)) {
            closeProbeHosts();
            probeHosts = Hosts.recorded(shards);
            probeKey = key;
            PROBE_CLOSER.schedule(this::closeIdleProbeHosts, PROBE_KEEP.toMillis(), TimeUnit.MILLISECONDS);
        }
        probeUsed = now;
        return probeHosts;
    }

    /**
     * Under {@code --lease}: the shards whose server runs on its host without its guard, from one {@code ps} per host
     * of both pids, at most every {@link #GUARD_CHECK_EVERY} (an empty answer between checks). A host that cannot be
     * reached is not judged: its guards may be fine.
     */
    @Override
    public java.util.Set<Integer> missingGuards(LaunchPlan plan, List<LaunchedShard> shards) {
        if (plan.spec().lease().isEmpty() || shards.isEmpty()) {
            return java.util.Set.of();
        }
        synchronized (probeLock) {
            long now = System.nanoTime();
            if (now - nextGuardCheck < 0) {
                return java.util.Set.of();
            }
            nextGuardCheck = now + GUARD_CHECK_EVERY.toNanos();
            Hosts hosts = keptSessions(shards, now);
            java.util.Set<Integer> out = new java.util.TreeSet<>();
            Parallel.map(new ArrayList<>(hosts.group(shards).entrySet()), e -> {
                List<LaunchedShard> mine = e.getValue();
                List<Long> pids = new ArrayList<>(pids(mine));
                mine.stream().map(s -> s.handle().get(HANDLE_GUARD)).filter(java.util.Objects::nonNull)
                        .map(Long::parseLong).forEach(pids::add);
                if (pids.isEmpty()) {
                    return java.util.Set.<Integer>of();
                }
                try {
                    return SshCommands.missingGuards(SshCommands.Ps.parse(e.getKey().runner().run(
                            SshCommands.shardPs(pids), COMMAND_TIMEOUT).stdout()), mine, HANDLE_GUARD);
                } catch (LaunchException unreachable) {
                    return java.util.Set.<Integer>of();
                }
            }).forEach(out::addAll);
            return out;
        }
    }

    /**
     * Starts the lease guard of {@code shard} (whose server runs) again on its host, as {@link #start} does (the guard
     * script is written there again first if it is gone); returns the shard recording the new guard's pid.
     */
    @Override
    public LaunchedShard restartGuard(LaunchPlan plan, LaunchedShard shard) {
        ShardPlan s = plan.shards().get(shard.index());
        long pid = shard.pid().orElseThrow(() -> new LaunchException("shard " + shard.index() + " of '" + plan.id()
                + "' has no recorded pid to guard"));
        try (Hosts hosts = Hosts.recorded(List.of(shard))) {
            Host h = hosts.forShard(shard);
            String script = LeaseGuard.path(plan).toString();
            if (!h.runner().run(List.of("test", "-f", script), COMMAND_TIMEOUT).ok()) {
                h.runner().writeFile(script, LeaseGuard.render(plan), COMMAND_TIMEOUT);
            }
            long guard = startGuards(plan, h, List.of(s), List.of(pid), COMMAND_TIMEOUT).get(0);
            Map<String, String> handle = new LinkedHashMap<>(shard.handle());
            handle.put(HANDLE_GUARD, Long.toString(guard));
            return new LaunchedShard(shard.index(), shard.name(), shard.host(), shard.port(), shard.pid(),
                    shard.processStart(), handle);
        }
    }

    private void closeIdleProbeHosts() {
        synchronized (probeLock) {
            if (probeHosts == null) {
                return;
            }
            long idle = System.nanoTime() - probeUsed;
            if (idle >= PROBE_KEEP.toNanos()) {
                closeProbeHosts();
            } else {
                PROBE_CLOSER.schedule(this::closeIdleProbeHosts, PROBE_KEEP.toNanos() - idle, TimeUnit.NANOSECONDS);
            }
        }
    }

    private void closeProbeHosts() {
        if (probeHosts != null) {
            probeHosts.close();
            probeHosts = null;
            probeKey = null;
        }
    }

    /**
     * One {@code ps} per host, side by side. A host that cannot be reached makes its shards UNKNOWN, or, while
     * a launch needs it ({@code strict}), fails with {@link SchedulerUnreachableException}.
     */
    private static Map<Integer, Liveness> probe(List<LaunchedShard> shards, Hosts hosts, boolean strict) {
        Map<Host, List<LaunchedShard>> byHost = hosts.group(shards);
        Map<Integer, Liveness> out = new TreeMap<>();
        List<Map<Integer, Liveness>> parts = Parallel.map(new ArrayList<>(byHost.entrySet()), e -> {
            Map<Integer, Liveness> m = new HashMap<>();
            List<LaunchedShard> mine = e.getValue();
            List<Long> pids = mine.stream().flatMap(s -> s.pid().stream()).toList();
            if (pids.isEmpty()) {
                mine.forEach(s -> m.put(s.index(), Liveness.UNKNOWN));
                return m;
            }
            SshCommands.Ps ps;
            try {
                ps = SshCommands.Ps.parse(e.getKey().runner().run(SshCommands.shardPs(pids), COMMAND_TIMEOUT).stdout());
            } catch (SchedulerUnreachableException unreachable) {
                if (strict) {
                    throw unreachable;
                }
                mine.forEach(s -> m.put(s.index(), Liveness.UNKNOWN));
                return m;
            }
            for (LaunchedShard s : mine) {
                m.put(s.index(), s.pid().isEmpty() ? Liveness.UNKNOWN : ps.isShard(s) ? Liveness.ALIVE : Liveness.GONE);
            }
            return m;
        });
        parts.forEach(out::putAll);
        return out;
    }

    @Override
    public void stop(List<LaunchedShard> shards, Duration grace) {
        if (shards.isEmpty()) {
            return;
        }
        try (Hosts hosts = Hosts.recorded(shards)) {
            List<String> left = terminate(shards, hosts, grace);
            if (!left.isEmpty()) {
                throw new SchedulerUnreachableException("could not make sure the shards are stopped: "
                        + String.join("; ", left) + "; run db stop again once the host is reachable");
            }
        }
    }

    /**
     * Per host, side by side: waits up to {@code grace} for the shards' processes to exit, then SIGTERM, then
     * SIGKILL after {@link #KILL_GRACE}. Only processes that are still the shard ({@link SshCommands.Ps#isShard}: titled
     * with its port, or its start chain still on the way to the server) are signalled, each with its process group
     * ({@link SshCommands#killShards}), so a server still being exec'd (a wrapper script, nohup, setsid) is stopped too
     * and cannot come up after a failed launch said every shard was stopped.
     * Returns what could not be made sure of, one entry per host ("host h: cannot reach ... (pids 1, 2)").
     */
    private static List<String> terminate(List<LaunchedShard> shards, Hosts hosts, Duration grace) {
        Map<Host, List<LaunchedShard>> byHost = hosts.group(shards);
        List<String> left = Parallel.map(new ArrayList<>(byHost.entrySet()), e -> {
            Host h = e.getKey();
            List<LaunchedShard> mine = e.getValue().stream().filter(s -> s.pid().isPresent()).toList();
            try {
                List<LaunchedShard> alive = waitGone(h, mine, grace);
                if (!alive.isEmpty()) {
                    h.runner().run(SshCommands.killShards("TERM", pids(alive)), COMMAND_TIMEOUT);
                    alive = waitGone(h, alive, KILL_GRACE);
                }
                if (!alive.isEmpty()) {
                    h.runner().run(SshCommands.killShards("KILL", pids(alive)), COMMAND_TIMEOUT);
                    alive = waitGone(h, alive, KILL_GRACE);
                }
                if (alive.isEmpty()) {
                    stopGuards(h, mine);
                    // --ai: the host's model server after its shards, so no module sees it go first
                    return SshModelServers.stop(h, e.getValue());
                }
                return "host " + h.name() + ": pids " + pids(alive) + " survive SIGKILL";
            } catch (LaunchException unreachable) {
                String why = unreachable.getMessage();
                return "host " + h.name() + " (pids " + pids(mine) + "): " + (why.contains(";")
                        ? why.substring(0, why.indexOf(';')) : why);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return "host " + h.name() + ": interrupted (pids " + pids(mine) + ")";
            }
        });
        return left.stream().filter(s -> !s.isEmpty()).toList();
    }

    /**
     * Ends the recorded lease guards of stopped shards that still run (only processes running the guard script):
     * they would exit within a second of their shards anyway.
     */
    private static void stopGuards(Host h, List<LaunchedShard> shards) {
        List<Long> guards = shards.stream().map(s -> s.handle().get(HANDLE_GUARD)).filter(java.util.Objects::nonNull)
                .map(Long::parseLong).toList();
        if (guards.isEmpty()) {
            return;
        }
        Map<Long, String> ps = SshCommands.parsePs(h.runner().run(SshCommands.ps(guards), COMMAND_TIMEOUT).stdout());
        List<Long> live = guards.stream().filter(g -> ps.containsKey(g) && SshCommands.isGuard(ps.get(g))).toList();
        if (!live.isEmpty()) {
            h.runner().run(SshCommands.kill("TERM", live), COMMAND_TIMEOUT);
        }
    }

    private static List<Long> pids(List<LaunchedShard> shards) {
        return shards.stream().flatMap(s -> s.pid().stream()).toList();
    }

    /** Polls one {@code ps} until none of {@code shards} is alive or {@code grace} has passed; returns the living. */
    private static List<LaunchedShard> waitGone(Host h, List<LaunchedShard> shards, Duration grace)
            throws InterruptedException {
        Backoff backoff = new Backoff(Deadline.after(grace), Duration.ofMillis(20), Duration.ofMillis(250));
        while (true) {
            List<LaunchedShard> alive = shards.isEmpty() ? List.of() : alive(h, shards);
            if (alive.isEmpty() || !backoff.pause()) {
                return alive;
            }
            shards = alive;
        }
    }

    private static List<LaunchedShard> alive(Host h, List<LaunchedShard> shards) {
        CommandResult r = h.runner().run(SshCommands.shardPs(pids(shards)), COMMAND_TIMEOUT);
        SshCommands.Ps ps = SshCommands.Ps.parse(r.stdout());
        return shards.stream().filter(ps::isShard).toList();
    }

    /** A host and its runner. */
    record Host(String name, SshCommandRunner runner) {
    }

    /** A host's outcome at start: the pids it printed, and why it failed if it did. */
    private record HostStart(Host host, List<ShardPlan> shards, List<Long> pids, List<Long> guards,
                             LaunchException failure) {
    }

    /** The runners of one operation, one per host, closed together. */
    static final class Hosts implements AutoCloseable {
        private final List<Host> list;
        private final Map<String, Host> byKey;

        private Hosts(List<Host> list, Map<String, Host> byKey) {
            this.list = list;
            this.byKey = byKey;
        }

        /** Runners for the hosts of a spec, in node order. */
        static Hosts of(SshOptions opts) {
            SshConfigResolver resolver = SshConfigResolver.forUser(opts.flags().configFile());
            List<Host> list = new ArrayList<>();
            Map<String, Host> byKey = new LinkedHashMap<>();
            for (String h : opts.hosts()) {
                Host host = byKey.computeIfAbsent(h, k -> new Host(k, new SshCommandRunner(resolver.resolve(k,
                        opts.flags()))));
                list.add(host);
            }
            return new Hosts(list, byKey);
        }

        /** Runners for recorded shards, from the host and settings each one carries. */
        static Hosts recorded(List<LaunchedShard> shards) {
            Map<String, Host> byKey = new LinkedHashMap<>();
            for (LaunchedShard s : shards) {
                String key = key(s);
                byKey.computeIfAbsent(key, k -> {
                    String host = s.handle().get(HANDLE_HOST);
                    if (host == null) {
                        throw new LaunchException("shard " + s.index() + " (" + s.name() + ") has no recorded SSH "
                                + "host; its manifest entry was not written by the ssh launcher");
                    }
                    SshFlags flags = SshOptions.flags(s.handle().entrySet().stream()
                            .filter(e -> SshOptions.RECORDED.contains(e.getKey()))
                            .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
                    return new Host(host, new SshCommandRunner(SshConfigResolver.forUser(flags.configFile())
                            .resolve(host, flags)));
                });
            }
            return new Hosts(new ArrayList<>(byKey.values()), byKey);
        }

        static String key(LaunchedShard s) {
            // The host and its SSH settings: not what differs between shards of one host (node, guard pid).
            // Nor its --ai model server's entries (ai.pid, ai.socket), which change when it is started again.
            return new TreeMap<>(s.handle()).entrySet().stream().filter(e -> !e.getKey().equals(HANDLE_NODE)
                            && !e.getKey().equals(HANDLE_GUARD) && !e.getKey().startsWith("ai."))
                    .map(Object::toString).toList().toString();
        }

        List<Host> list() {
            return list;
        }

        Host forShard(LaunchedShard s) {
            Host h = byKey.get(s.handle().get(HANDLE_HOST));
            return h != null ? h : byKey.get(key(s));
        }

        Map<Host, List<LaunchedShard>> group(List<LaunchedShard> shards) {
            Map<Host, List<LaunchedShard>> out = new LinkedHashMap<>();
            shards.forEach(s -> out.computeIfAbsent(forShard(s), h -> new ArrayList<>()).add(s));
            return out;
        }

        @Override
        public void close() {
            byKey.values().forEach(h -> h.runner().close());
        }
    }
}
