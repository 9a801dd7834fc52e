package io.smartsim.launch.ssh;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.supervise.LeaseGuard;
import io.smartsim.launch.util.Backoff;
import io.smartsim.launch.util.Deadline;
import io.smartsim.launch.util.Parallel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The ssh side of {@code --ai} through the Redis module: each host's model server ({@link ModelServerPlan}), started
 * over SSH before the host's shards ({@code nohup setsid}, like a shard), awaited on that host until its console has
 * {@code ready socket=...}, recorded in its shards' handles ({@link AiPlanner#HANDLE_PID},
 * {@link AiPlanner#HANDLE_SOCKET}), stopped there after the shards, and started again there when it died. A model
 * server is known on its host by its command line ({@link SshCommands#isModelServer}): a reused pid is never signalled.
 */
final class SshModelServers {
    private static final Duration KILL_GRACE = Duration.ofSeconds(5);

    /** A model server that runs: its plan, the host it runs on, its pid there. */
    record Running(ModelServerPlan plan, SshLauncher.Host host, long pid) {
        /** The handle entries of a shard served by it. */
        Map<String, String> handle() {
            Map<String, String> h = new LinkedHashMap<>();
            h.put(AiPlanner.HANDLE_PID, Long.toString(pid));
            h.put(AiPlanner.HANDLE_SOCKET, plan.socket().toString());
            return h;
        }
    }

    private SshModelServers() {
    }

    /** The host (in node order of {@code hosts}) of model server {@code m}: its first shard's node. */
    static SshLauncher.Host hostOf(LaunchPlan plan, ModelServerPlan m, List<SshLauncher.Host> hosts) {
        return hosts.get(plan.shards().get(m.shards().get(0)).node());
    }

    /**
     * Preflight: every host that runs a model server has what it runs at the paths it has here (the java, the AI
     * directory's jars, the smartsim-ai module); refused naming the host and the missing paths, before anything starts.
     */
    static void check(LaunchPlan plan, List<SshLauncher.Host> hosts, Duration timeout) {
        Parallel.map(plan.modelServers(), m -> {
            SshLauncher.Host h = hostOf(plan, m, hosts);
            CommandResult r = h.runner().run(SshCommands.missing(m.needed()), timeout);
            List<String> missing = r.stdout().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
            if (!r.ok() || !missing.isEmpty()) {
                throw new InvalidSpecException("ai", "--ai runs a model server on host " + h.name() + " ("
                        + h.runner().where() + ") from the AI directory at the paths it has here, but "
                        + (r.ok() ? "host " + h.name() + " has no " + String.join(", no ", missing)
                        : "checking for " + String.join(", ", m.needed()) + " there failed: " + r.describe())
                        + "; install the model-serving runtime (ai-dist/target/ai with " + "smartsim-ai.so, and java) "
                        + "at the same paths on every host, or point " + io.smartsim.launch.plan.AiInstall.ENV
                        + " at a directory every host has");
            }
            return m;
        });
    }

    /**
     * Starts every model server of {@code plan} on its host, side by side, and returns once each is ready. Each one is
     * added to {@code started} as soon as its pid is known, so that the caller stops it on a failure. A model server
     * that exits or is not ready by {@code deadline} fails the start naming its host and socket, with its console's
     * tail.
     */
    static List<Running> start(LaunchPlan plan, List<SshLauncher.Host> hosts, Deadline deadline,
                               List<Running> started) {
        return Parallel.map(plan.modelServers(), m -> {
            SshLauncher.Host h = hostOf(plan, m, hosts);
            Running r = spawn(plan, m, h, deadline);
            synchronized (started) {
                started.add(r);
            }
            awaitReady(plan, r, deadline, LAUNCH_STOPPED);
            return r;
        });
    }

    private static final String LAUNCH_STOPPED = "every process of this launch was stopped";

    private static Running spawn(LaunchPlan plan, ModelServerPlan m, SshLauncher.Host h, Deadline deadline) {
        CommandResult r = h.runner().run(SshCommands.startModelServer(m.workDir().toString(), m.console().toString(),
                m.socket().toString(), m.socketDirPrivate(), m.argv()), timeout(deadline));
        List<Long> pids;
        try {
            pids = r.ok() ? SshCommands.parsePids(r.stdout()) : List.of();
        } catch (NumberFormatException e) {
            pids = List.of();
        }
        if (pids.size() != 1) {
            throw new ShardStartException("could not start the --ai model server of '" + plan.id() + "' on host "
                    + h.name() + " (socket " + m.socket() + "): " + r.describe());
        }
        return new Running(m, h, pids.get(0));
    }

    private static void awaitReady(LaunchPlan plan, Running r, Deadline deadline, String then) {
        ModelServerPlan m = r.plan();
        int polls = (int) Math.max(1, deadline.remaining().toMillis() / 50);
        CommandResult res = r.host().runner().run(SshCommands.awaitModelServer(m.console().toString(), r.pid(), polls,
                ModelServerPlan.READY), deadline.remaining().plus(SshLauncher.COMMAND_TIMEOUT));
        String how = res.stdout().strip();
        if (res.ok() && how.equals("ready")) {
            return;
        }
        String what = !res.ok() ? "could not be watched (" + res.describe() + ")"
                : how.equals("gone") ? "exited before it was ready"
                : "was not ready within " + plan.spec().startupTimeout().toSeconds() + " s";
        throw new ShardStartException("the --ai model server of '" + plan.id() + "' on host " + r.host().name()
                + " (pid " + r.pid() + ", socket " + m.socket() + ") " + what + "; " + then + ".\n"
                + tail(r.host(), m));
    }

    /** The last lines of a model server's console on its host, for messages; never throws. */
    static String tail(SshLauncher.Host h, ModelServerPlan m) {
        try {
            CommandResult r = h.runner().run(SshCommands.tail(m.console().toString(), 12), Duration.ofSeconds(5));
            return r.ok() && !r.stdout().isBlank() ? "  last lines of " + m.console() + " on " + h.name() + ":\n    "
                    + String.join("\n    ", r.stdout().strip().split("\n")) : "  (" + m.console() + " is empty or missing)";
        } catch (LaunchException e) {
            return "  (could not read " + m.console() + " on " + h.name() + ": " + e.getMessage() + ")";
        }
    }

    /**
     * Under {@code --lease}: the lease guard of a model server on its host, as each shard has one, so that it stops
     * when the lease runs out with the shards. It exits by itself once the model server has, so it is not recorded.
     * The guard script and the lease file must be on the host already.
     */
    static void guard(LaunchPlan plan, Running r, Duration timeout) {
        if (plan.spec().lease().isEmpty()) {
            return;
        }
        ModelServerPlan m = r.plan();
        CommandResult res = r.host().runner().run(SshCommands.modelServerGuard(LeaseGuard.path(plan).toString(),
                r.pid(), m.workDir().resolve("model-server-" + m.index() + ".lease.out").toString()), timeout);
        if (!res.ok()) {
            throw new ShardStartException("could not start the lease guard of the --ai model server of '" + plan.id()
                    + "' on host " + r.host().name() + ": " + res.describe());
        }
    }

    /** Stops model servers this launch started (a failed launch): as {@link #stop}, each on its host. */
    static void stopStarted(List<Running> started) {
        Parallel.map(List.copyOf(started), r -> {
            try {
                end(r.host(), List.of(r.pid()), r.plan().socket().toString());
            } catch (LaunchException | InterruptedException e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
            }
            return r;
        });
    }

    /**
     * Ends the model servers that {@code shards} (all on host {@code h}) record, each once, after their shards:
     * SIGTERM to its process group (its shutdown hook removes the socket), SIGKILL after 5 s; then removes the
     * socket and a private socket directory. Only processes still running the model server of that socket are
     * signalled. Returns what survives ("" when none).
     */
    static String stop(SshLauncher.Host h, List<LaunchedShard> shards) throws InterruptedException {
        Map<String, Set<Long>> bySocket = new LinkedHashMap<>();
        for (LaunchedShard s : shards) {
            String socket = s.handle().get(AiPlanner.HANDLE_SOCKET);
            String pid = s.handle().get(AiPlanner.HANDLE_PID);
            if (socket != null && pid != null) {
                bySocket.computeIfAbsent(socket, k -> new LinkedHashSet<>()).add(Long.parseLong(pid));
            }
        }
        List<String> left = new ArrayList<>();
        for (Map.Entry<String, Set<Long>> e : bySocket.entrySet()) {
            List<Long> alive = end(h, new ArrayList<>(e.getValue()), e.getKey());
            if (!alive.isEmpty()) {
                left.add("host " + h.name() + ": model server pids " + alive + " survive SIGKILL");
            }
        }
        return String.join("; ", left);
    }

    /** SIGTERM, then SIGKILL, to those of {@code pids} that run the model server of {@code socket}; the living. */
    private static List<Long> end(SshLauncher.Host h, List<Long> pids, String socket) throws InterruptedException {
        List<Long> alive = alive(h, pids, socket);
        if (!alive.isEmpty()) {
            h.runner().run(SshCommands.killShards("TERM", alive), SshLauncher.COMMAND_TIMEOUT);
            alive = waitGone(h, alive, socket, KILL_GRACE);
        }
        if (!alive.isEmpty()) {
            h.runner().run(SshCommands.killShards("KILL", alive), SshLauncher.COMMAND_TIMEOUT);
            alive = waitGone(h, alive, socket, KILL_GRACE);
        }
        h.runner().run(SshCommands.removeSocket(socket), SshLauncher.COMMAND_TIMEOUT);
        return alive;
    }

    private static List<Long> alive(SshLauncher.Host h, List<Long> pids, String socket) {
        if (pids.isEmpty()) {
            return List.of();
        }
        Map<Long, String> ps = SshCommands.parsePs(h.runner().run(SshCommands.ps(pids), SshLauncher.COMMAND_TIMEOUT)
                .stdout());
        return pids.stream().filter(p -> ps.containsKey(p) && SshCommands.isModelServer(ps.get(p),
                AiPlanner.MODEL_SERVER_MAIN, socket)).toList();
    }

    private static List<Long> waitGone(SshLauncher.Host h, List<Long> pids, String socket, Duration grace)
            throws InterruptedException {
        Backoff backoff = new Backoff(Deadline.after(grace), Duration.ofMillis(20), Duration.ofMillis(250));
        while (true) {
            List<Long> alive = alive(h, pids, socket);
            if (alive.isEmpty() || !backoff.pause()) {
                return alive;
            }
            pids = alive;
        }
    }

    /**
     * Whether the model server each of {@code shards} records runs on its host: one {@code ps} per host, side by side.
     * A host that cannot be reached leaves its shards out (unknown).
     */
    static Map<Integer, Liveness> probe(List<LaunchedShard> shards, SshLauncher.Hosts hosts) {
        List<LaunchedShard> serving = shards.stream().filter(s -> s.handle().containsKey(AiPlanner.HANDLE_PID)
                && s.handle().containsKey(AiPlanner.HANDLE_SOCKET)).toList();
        Map<Integer, Liveness> out = new TreeMap<>();
        if (serving.isEmpty()) {
            return out;
        }
        Parallel.map(new ArrayList<>(hosts.group(serving).entrySet()), e -> {
            Map<Integer, Liveness> m = new TreeMap<>();
            List<Long> pids = e.getValue().stream().map(s -> Long.parseLong(s.handle().get(AiPlanner.HANDLE_PID)))
                    .distinct().toList();
            Map<Long, String> ps;
            try {
                ps = SshCommands.parsePs(e.getKey().runner().run(SshCommands.ps(pids), SshLauncher.COMMAND_TIMEOUT)
                        .stdout());
            } catch (LaunchException unreachable) {
                return m;
            }
            for (LaunchedShard s : e.getValue()) {
                long pid = Long.parseLong(s.handle().get(AiPlanner.HANDLE_PID));
                m.put(s.index(), ps.containsKey(pid) && SshCommands.isModelServer(ps.get(pid),
                        AiPlanner.MODEL_SERVER_MAIN, s.handle().get(AiPlanner.HANDLE_SOCKET)) ? Liveness.ALIVE
                        : Liveness.GONE);
            }
            return m;
        }).forEach(out::putAll);
        return out;
    }

    /**
     * The model servers of {@code plan} that are gone while recorded for {@code shards}: each is started again on its
     * host (its socket path as before, so the modules reconnect on their next model command and push their models),
     * and every shard recording an older one gets the running one in its handle. Returns the shards whose records
     * changed.
     */
    static List<LaunchedShard> revive(LaunchPlan plan, List<LaunchedShard> shards, SshLauncher.Hosts hosts,
                                      Deadline deadline) {
        Map<Integer, Liveness> live = probe(shards, hosts);
        List<LaunchedShard> changed = new ArrayList<>();
        for (ModelServerPlan m : plan.modelServers()) {
            List<LaunchedShard> served = shards.stream().filter(s -> m.shards().contains(s.index())).toList();
            if (served.isEmpty()) {
                continue;
            }
            if (served.stream().anyMatch(s -> !live.containsKey(s.index()) && s.handle()
                    .containsKey(AiPlanner.HANDLE_PID))) {
                continue; // its host did not answer: not judged now
            }
            Optional<LaunchedShard> withLive = served.stream().filter(s -> live.get(s.index()) == Liveness.ALIVE)
                    .findFirst();
            Map<String, String> current = withLive.isPresent() ? only(withLive.get().handle())
                    : ensure(plan, m, hosts.forShard(served.get(0)), deadline).handle();
            for (LaunchedShard s : served) {
                if (!only(s.handle()).equals(current)) {
                    changed.add(s.withHandleEntries(current));
                }
            }
        }
        return changed;
    }

    /**
     * The model server of shard {@code dead} (restarted by the watchdog), running: the recorded one, else one of its
     * socket that runs unrecorded, else a new one; its handle entries. Nothing without {@code --ai}.
     */
    static Map<String, String> ensure(LaunchPlan plan, LaunchedShard dead, SshLauncher.Host h, Deadline deadline) {
        Optional<ModelServerPlan> m = plan.modelServerOf(dead.index());
        if (m.isEmpty()) {
            return Map.of();
        }
        String pid = dead.handle().get(AiPlanner.HANDLE_PID);
        if (pid != null && !alive(h, List.of(Long.parseLong(pid)), m.get().socket().toString()).isEmpty()) {
            return only(dead.handle());
        }
        return ensure(plan, m.get(), h, deadline).handle();
    }

    /** One of {@code m}'s socket that runs on {@code h} though no shard records it, else a new one. */
    private static Running ensure(LaunchPlan plan, ModelServerPlan m, SshLauncher.Host h, Deadline deadline) {
        Map<Long, String> all = SshCommands.parsePs(h.runner().run(SshCommands.psAll(), SshLauncher.COMMAND_TIMEOUT)
                .stdout());
        Optional<Long> running = all.entrySet().stream().filter(e -> SshCommands.isModelServer(e.getValue(),
                AiPlanner.MODEL_SERVER_MAIN, m.socket().toString())).map(Map.Entry::getKey)
                .filter(p -> !all.get(p).startsWith("sh -c")).findFirst(); // not a start script still running
        if (running.isPresent()) {
            return new Running(m, h, running.get());
        }
        Running r = spawn(plan, m, h, deadline);
        try {
            awaitReady(plan, r, deadline, "it was stopped; the shards keep serving data");
            guard(plan, r, SshLauncher.COMMAND_TIMEOUT);
            return r;
        } catch (RuntimeException e) {
            stopStarted(List.of(r));
            throw e;
        }
    }

    private static Map<String, String> only(Map<String, String> handle) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String k : List.of(AiPlanner.HANDLE_PID, AiPlanner.HANDLE_SOCKET)) {
            if (handle.containsKey(k)) {
                out.put(k, handle.get(k));
            }
        }
        return out;
    }

    private static Duration timeout(Deadline d) {
        return Duration.ofMillis(d.capMillis(SshLauncher.COMMAND_TIMEOUT));
    }
}
