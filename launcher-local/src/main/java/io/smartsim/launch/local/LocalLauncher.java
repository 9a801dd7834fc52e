package io.smartsim.launch.local;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.PlanFiles;
import io.smartsim.launch.plan.PortSearch;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.security.OwnerOnly;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher;
import io.smartsim.launch.spi.Leasable;
import io.smartsim.launch.spi.PortChooser;
import io.smartsim.launch.cluster.ReadinessWait;
import io.smartsim.launch.spi.Restartable;
import io.smartsim.launch.util.Executables;
import io.smartsim.launch.util.LogTail;
import io.smartsim.launch.util.PortOwners;
import io.smartsim.launch.util.ProcStat;
import io.smartsim.launch.exec.DaemonProcess;
import io.smartsim.launch.supervise.LeaseGuard;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.function.IntPredicate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Runs every shard as a process on this machine. Nodes are all this host, so ports are numbered across
 * all shards (port, port+1, ...). Binds to loopback unless interfaces are given.
 */
public final class LocalLauncher implements Restartable, Leasable.GuardWatch, PortChooser {
    public static final String NAME = "local";
    private static final String HOST = "localhost";
    private static final long STOP_POLL_MAX_MILLIS = 20;
    private static final long EXIT_SETTLE_MILLIS = 200;

    @Override
    public String name() {
        return NAME;
    }

    /** Every shard is a process on this machine. */
    @Override
    public boolean shardsOnThisMachine() {
        return true;
    }

    @Override
    public Placement place(OrchestratorSpec spec) {
        List<String> names = spec.interfaces().isEmpty() ? List.of(loopbackName()) : spec.interfaces();
        List<String> addresses = new ArrayList<>();
        for (String n : names) {
            addresses.add(addressOf(n));
        }
        if (!spec.launcherOptions().isEmpty()) {
            throw new InvalidSpecException("launcherOptions", "the local launcher takes no launcher options, got "
                    + spec.launcherOptions().keySet() + "; remove them or choose the launcher they belong to");
        }
        List<Placement.Node> nodes = new ArrayList<>();
        for (int i = 0; i < spec.nodes(); i++) {
            nodes.add(new Placement.Node(HOST, addresses));
        }
        return new Placement(nodes); // --ai: the Redis module in each shard, one model server (AiPlanner)
    }

    /**
     * {@code --port auto}: the lowest base port from the spec's up whose shard ports (and, clustered, bus ports)
     * are all free on every bind address ({@link PortSearch}). Shards here share one host, so they take consecutive
     * ports.
     */
    @Override
    public OrchestratorSpec choosePorts(OrchestratorSpec spec) {
        if (!spec.autoPort()) {
            return spec;
        }
        List<String> addresses = place(spec).nodes().get(0).bindAddresses();
        // masters and replicas: one host, consecutive ports
        int base = PortSearch.lowestFreeBase(spec, Map.of(HOST, spec.processCount()),
                (host, port) -> addresses.stream().anyMatch(a -> !free(a, port)), String.join(",", addresses));
        return spec.toBuilder().port(base).build();
    }

    @Override
    public void preflight(LaunchPlan plan) {
        binary(plan);
        for (ShardPlan s : plan.shards()) {
            for (int port : AiPlanner.ports(plan, s.port())) {
                for (String addr : s.bindAddresses()) {
                    if (!free(addr, port)) {
                        throw PortSearch.taken(plan, port, addr, PortOwners.heldBy(port));
                    }
                }
            }
        }
    }

    private static boolean free(String addr, int port) {
        try (ServerSocket ss = new ServerSocket()) {
            ss.setReuseAddress(true); // as redis-server does, so TIME_WAIT leftovers do not count as busy
            ss.bind(new InetSocketAddress(InetAddress.getByName(addr), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static Path binary(LaunchPlan plan) {
        OrchestratorSpec spec = plan.spec();
        if (spec.serverBinary().isPresent()) {
            Path p = spec.serverBinary().get();
            return Executables.onPath(p.toString().contains("/") ? p.toString() : "./" + p)
                    .orElseThrow(() -> new InvalidSpecException("serverBinary", p + " is not an executable file; "
                            + "give the path of " + spec.backend().binaryName()));
        }
        String name = spec.backend().binaryName();
        return Executables.onPath(name).orElseThrow(() -> new InvalidSpecException("backend", name
                + " (backend " + spec.backend().id() + ") was not found on PATH; " + spec.backend().installHint()));
    }

    @Override
    public List<LaunchedShard> start(LaunchPlan plan, LaunchContext ctx) {
        Path bin = binary(plan);
        PlanFiles.write(plan);
        LeaseGuards.write(plan);
        List<DaemonProcess> procs = new ArrayList<>();
        List<DaemonProcess> modelServers = new ArrayList<>();
        List<LaunchedShard> launched = new ArrayList<>();
        try {
            // --ai: the model server first, ready (warmed up) before any shard loads the module that connects to it
            List<ModelServers.Running> running = ModelServers.start(plan, ctx.deadline(), modelServers);
            boolean held = holdsUntilRecorded(plan);
            for (ShardPlan s : plan.shards()) {
                procs.add(spawn(plan, s, bin, held));
            }
            for (int i = 0; i < plan.shards().size(); i++) { // procs gains each shard's lease guard after the shards
                ShardPlan s = plan.shards().get(i);
                Optional<ProcessHandle> p = procs.get(i).handle(ctx.deadline().remaining());
                if (p.isEmpty()) {
                    throw failure(plan, s, procs.get(i).exit().orElse("did not start in time"));
                }
                Map<String, String> ai = running.stream().filter(r -> r.plan().shards().contains(s.index()))
                        .findFirst().map(ModelServers.Running::handle).orElse(Map.of());
                LaunchedShard ls = launched(plan, s, p.get(), procs, ai);
                launched.add(ls);
                ctx.spawned().accept(ls);
                procs.get(i).keep(); // recorded: it runs on after this JVM
            }
            awaitPing(plan, procs.subList(0, plan.shards().size()), ctx);
            return List.copyOf(launched);
        } catch (RuntimeException e) {
            stopAll(procs);
            stopAll(modelServers);
            ModelServers.removeSockets(plan);
            throw e;
        } catch (InterruptedException e) {
            stopAll(procs);
            stopAll(modelServers);
            ModelServers.removeSockets(plan);
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted while starting '" + plan.id() + "'; every shard was stopped", e);
        }
    }

    /**
     * Spawns one shard's process as planned, for a start and a restart alike: the server binary as found on PATH (never
     * a resolved symlink) as the argv's first word, and under --checkpoint an
     * owner-only umask for the data files it writes (the directory already is).
     */
    private static DaemonProcess spawn(LaunchPlan plan, ShardPlan s, Path bin, boolean held) {
        List<String> argv = new ArrayList<>(s.argv());
        argv.set(0, bin.toString());
        List<String> cmd = plan.spec().checkpoint().isPresent() ? OwnerOnly.withOwnerOnlyUmask(argv) : argv;
        return held ? DaemonProcess.spawnHeld(cmd, s.workDir(), PlanFiles.consoleLog(s))
                : DaemonProcess.spawn(cmd, s.workDir(), PlanFiles.consoleLog(s));
    }

    /**
     * A start's shards are held until recorded ({@link DaemonProcess#spawnHeld}), unless model servers ({@code --ai})
     * start before them: those are not held, so such a start is recorded before anything runs.
     */
    @Override
    public boolean holdsUntilRecorded(LaunchPlan plan) {
        return plan.modelServers().isEmpty();
    }

    /**
     * The shard as recorded, with its lease guard started beside it under {@code --lease} (the guard's process is
     * added to {@code procs}, after the shards', so a failed launch stops it too).
     */
    private static LaunchedShard launched(LaunchPlan plan, ShardPlan s, ProcessHandle h, List<DaemonProcess> procs,
                                          Map<String, String> modelServer) {
        Map<String, String> handle = new LinkedHashMap<>();
        handle.put("node", ThisNode.name()); // as the local models' (the plan's node index stays in the plan)
        handle.putAll(modelServer); // under --ai: its host's model server, which a stop ends after the shard
        LeaseGuards.start(plan, s, h.pid(), procs).ifPresent(g -> handle.put(LeaseGuards.HANDLE, Long.toString(g)));
        return new LaunchedShard(s.index(), s.name(), s.advertisedAddress(), s.port(), Optional.of(h.pid()),
                h.info().startInstant(), handle);
    }

    /**
     * Starts the dead shard's server again with its config and cluster state file as they are: {@link PlanFiles} is
     * not written again, since it would delete the {@code nodes-<port>.conf} the shard rejoins with.
     */
    @Override
    public LaunchedShard restart(LaunchPlan plan, LaunchedShard dead, LaunchContext ctx) {
        ShardPlan s = plan.shards().get(dead.index());
        if (!Files.isRegularFile(s.configPath())) {
            throw new ShardStartException("cannot restart shard " + s.index() + " (" + s.name() + ") of '" + plan.id()
                    + "': its config " + s.configPath() + " is gone; stop the orchestrator and start it again");
        }
        handle(dead).ifPresent(ProcessHandle::destroyForcibly); // a hung one the watchdog gave up on
        List<DaemonProcess> procs = new ArrayList<>();
        try {
            // --ai: the module needs its model server; the recorded one if it runs, else a new one on the same socket
            Map<String, String> ai = ModelServers.ensure(plan, s.index(), dead, ctx.deadline());
            procs.add(spawn(plan, s, binary(plan), false));
            Optional<ProcessHandle> p = procs.get(0).handle(ctx.deadline().remaining());
            if (p.isEmpty()) {
                throw restartFailure(plan, s, procs.get(0).exit().orElse("did not start in time"));
            }
            LaunchedShard ls = launched(plan, s, p.get(), procs, ai);
            ctx.spawned().accept(ls);
            DaemonProcess proc = procs.get(0);
            ReadinessWait.of(plan, ctx, List.of(ReadinessWait.Shard.at(ls, proc::exit))).quiet()
                    .polling(Duration.ofMillis(2), Duration.ofMillis(50))
                    .failure((i, how) -> restartFailure(plan, s, how))
                    .timeout(late -> restartFailure(plan, s, "did not answer PING within "
                            + plan.spec().startupTimeout().toSeconds() + " s"))
                    .await();
            return ls;
        } catch (RuntimeException e) {
            stopAll(procs);
            throw e;
        } catch (InterruptedException e) {
            stopAll(procs);
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted while restarting shard " + s.index() + " of '" + plan.id()
                    + "'; the process it started was stopped", e);
        }
    }

    /** Under {@code --ai}: the host's model server started again when it died ({@link ModelServers#revive}). */
    @Override
    public List<LaunchedShard> reviveModelServers(LaunchPlan plan, List<LaunchedShard> shards, LaunchContext ctx) {
        try {
            return ModelServers.revive(plan, shards, ctx.deadline());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted while starting the model server of '" + plan.id() + "' again", e);
        }
    }

    @Override
    public java.util.Set<Integer> missingGuards(LaunchPlan plan, List<LaunchedShard> shards) {
        return LeaseGuards.missing(plan, shards);
    }

    @Override
    public LaunchedShard restartGuard(LaunchPlan plan, LaunchedShard shard) {
        return LeaseGuards.restart(plan, shard);
    }

    private static ShardStartException restartFailure(LaunchPlan plan, ShardPlan s, String how) {
        return new ShardStartException("restarted shard " + s.index() + " (" + s.name() + ") of '" + plan.id()
                + "' on port " + s.port() + " " + how + "; what the restart started was stopped.\n"
                + LogTail.block(s.logPath(), 8) + "\n" + LogTail.block(PlanFiles.consoleLog(s), 8));
    }

    private static void awaitPing(LaunchPlan plan, List<DaemonProcess> procs, LaunchContext ctx)
            throws InterruptedException {
        List<ReadinessWait.Shard> shards = new ArrayList<>();
        for (int i = 0; i < procs.size(); i++) {
            ShardPlan s = plan.shards().get(i);
            DaemonProcess p = procs.get(i);
            shards.add(ReadinessWait.Shard.at(new LaunchedShard(s.index(), s.name(), s.advertisedAddress(), s.port(),
                    Optional.empty(), Optional.empty(), Map.of()), p::exit));
        }
        ReadinessWait wait = ReadinessWait.of(plan, ctx, shards).polling(Duration.ofMillis(2), Duration.ofMillis(50));
        wait.failure((i, how) -> firstExited(plan, procs, wait::up, i))
                .timeout(late -> ReadinessWait.notUp(plan, procs.size(), late, "did not answer PING",
                        "every shard was stopped", (i, ls) -> "shard " + i + " on port " + plan.shards().get(i).port()
                                + "\n" + LogTail.block(plan.shards().get(i).logPath(), 5)))
                .await();
    }

    private static ShardStartException firstExited(LaunchPlan plan, List<DaemonProcess> procs, IntPredicate up, int seen)
            throws InterruptedException {
        long until = System.nanoTime() + EXIT_SETTLE_MILLIS * 1_000_000;
        while (true) {
            for (int i = 0; i <= seen; i++) {
                Optional<String> exit = procs.get(i).exit();
                if (!up.test(i) && exit.isPresent() && allLowerSettled(procs, up, i)) {
                    return failure(plan, plan.shards().get(i), exit.get());
                }
            }
            if (System.nanoTime() >= until) {
                return failure(plan, plan.shards().get(seen), procs.get(seen).exit().orElse("exited"));
            }
            Thread.sleep(2);
        }
    }

    /** Every shard below {@code i} either answered PING or has exited. */
    private static boolean allLowerSettled(List<DaemonProcess> procs, IntPredicate up, int i) {
        for (int j = 0; j < i; j++) {
            if (!up.test(j) && procs.get(j).exit().isEmpty()) {
                return false;
            }
        }
        return true;
    }

    private static ShardStartException failure(LaunchPlan plan, ShardPlan s, String how) {
        return new ShardStartException("shard " + s.index() + " (" + s.name() + ") of '" + plan.id() + "' on port "
                + s.port() + " " + how + "; every shard of this launch was stopped.\n"
                + LogTail.block(s.logPath(), 8) + "\n" + LogTail.block(PlanFiles.consoleLog(s), 8));
    }

    private static void stopAll(List<DaemonProcess> procs) {
        for (DaemonProcess p : procs) {
            try {
                p.terminate(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public Map<Integer, Liveness> probe(List<LaunchedShard> shards) {
        Map<Integer, Liveness> out = new LinkedHashMap<>();
        for (LaunchedShard s : shards) {
            out.put(s.index(), s.pid().isEmpty() ? Liveness.UNKNOWN
                    : handle(s).isPresent() ? Liveness.ALIVE : Liveness.GONE);
        }
        return out;
    }

    /** The shard's process if it is still the one we started (same pid and start time) and still running. */
    static Optional<ProcessHandle> handle(LaunchedShard s) {
        return s.pid().flatMap(ProcessHandle::of).filter(LocalLauncher::running).filter(h -> {
            Optional<Instant> started = h.info().startInstant();
            return s.processStart().isEmpty() || started.isEmpty() || started.equals(s.processStart());
        });
    }

    /**
     * True while the process runs. One that has exited but is not yet reaped (a zombie) counts as gone: it holds
     * no port and no memory any more. Shards started by an earlier {@code db start} are orphans whose reaper is
     * init, which may take a second to reap them; {@link ProcessHandle#isAlive} counts zombies as alive.
     */
    static boolean running(ProcessHandle h) {
        return ProcStat.running(h);
    }

    /** Whether /proc says the process has exited (state Z or X, or no such process): {@link ProcStat}. */
    static boolean exited(long pid) {
        return !ProcStat.running(pid);
    }

    /**
     * Waits up to {@code grace} for the shards to exit (they were sent SHUTDOWN), then SIGTERM, then SIGKILL.
     * Returns once none of them runs, so their ports are free. Exits are polled every few milliseconds:
     * {@link ProcessHandle#onExit} of a process that is not our child polls only every 300 ms and more.
     */
    @Override
    public void stop(List<LaunchedShard> shards, Duration grace) {
        List<ProcessHandle> left = new ArrayList<>();
        shards.forEach(s -> handle(s).ifPresent(left::add));
        try {
            awaitExit(left, grace);
            left.forEach(ProcessHandle::destroy);
            awaitExit(left, Duration.ofSeconds(5));
            left.forEach(ProcessHandle::destroyForcibly);
            awaitExit(left, Duration.ofSeconds(5));
            LeaseGuards.stop(shards); // they would exit within a second of their shards anyway
            ModelServers.stop(shards); // --ai: after the shards, so no module sees its model server go first
        } catch (InterruptedException e) {
            left.forEach(ProcessHandle::destroyForcibly);
            Thread.currentThread().interrupt();
        }
    }

    /** Drops exited processes from {@code procs} until none is left or {@code limit} has passed. */
    private static void awaitExit(List<ProcessHandle> procs, Duration limit) throws InterruptedException {
        long until = System.nanoTime() + limit.toNanos();
        long pause = 1;
        while (true) {
            procs.removeIf(h -> !running(h));
            if (procs.isEmpty() || System.nanoTime() >= until) {
                return;
            }
            Thread.sleep(Math.min(pause, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
            pause = Math.min(STOP_POLL_MAX_MILLIS, pause * 2);
        }
    }

    private static String loopbackName() {
        try {
            for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (n.isLoopback()) {
                    return n.getName();
                }
            }
        } catch (SocketException e) {
            // fall through to the usual Linux name
        }
        return "lo";
    }

    /** The interface's first IPv4 address (IPv6 if it has none); a clear error for a name that does not exist. */
    static String addressOf(String name) {
        try {
            NetworkInterface n = NetworkInterface.getByName(name);
            if (n == null) {
                throw new InvalidSpecException("interfaces", "there is no network interface '" + name
                        + "' on this machine; available: " + available());
            }
            if (!n.isUp()) {
                throw new InvalidSpecException("interfaces", "network interface '" + name + "' is down; choose one of "
                        + available());
            }
            List<InetAddress> addrs = Collections.list(n.getInetAddresses());
            return addrs.stream().filter(a -> a instanceof Inet4Address).findFirst()
                    .or(() -> addrs.stream().findFirst())
                    .map(a -> a.getHostAddress().replaceAll("%.*$", ""))
                    .orElseThrow(() -> new InvalidSpecException("interfaces", "network interface '" + name
                            + "' has no address; choose one of " + available()));
        } catch (SocketException e) {
            throw new InvalidSpecException("interfaces", "cannot read network interface '" + name + "': "
                    + e.getMessage());
        }
    }

    private static String available() {
        TreeSet<String> names = new TreeSet<>();
        try {
            for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (n.isUp() && n.getInetAddresses().hasMoreElements()) {
                    names.add(n.getName());
                }
            }
        } catch (SocketException e) {
            return "(cannot list interfaces: " + e.getMessage() + ")";
        }
        return String.join(", ", names);
    }
}
