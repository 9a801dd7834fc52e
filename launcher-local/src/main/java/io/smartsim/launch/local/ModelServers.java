package io.smartsim.launch.local;

import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.exec.DaemonProcess;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.security.OwnerOnly;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.supervise.LeaseGuard;
import io.smartsim.launch.util.Deadline;
import io.smartsim.launch.util.LogTail;
import io.smartsim.launch.util.PreviousRun;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The local side of {@code --ai} through the Redis module: the orchestrator's model server ({@link ModelServerPlan},
 * one for this host), started before the shards, awaited until it prints {@code ready socket=...}, recorded in each
 * shard's handle ({@link AiPlanner#HANDLE_PID}, {@link AiPlanner#HANDLE_START}, {@link AiPlanner#HANDLE_SOCKET}) so
 * that a stop from any process ends it after the shards, and started again when it dies.
 */
final class ModelServers {
    /** A model server that runs: its plan, pid and start time. */
    record Running(ModelServerPlan plan, long pid, Optional<Instant> start) {
        /** The handle entries of a shard served by it. */
        Map<String, String> handle() {
            Map<String, String> h = new LinkedHashMap<>();
            h.put(AiPlanner.HANDLE_PID, Long.toString(pid));
            start.ifPresent(s -> h.put(AiPlanner.HANDLE_START, s.toString()));
            h.put(AiPlanner.HANDLE_SOCKET, plan.socket().toString());
            return h;
        }
    }

    private ModelServers() {
    }

    /**
     * Starts every model server of {@code plan} (none without {@code --ai}) and returns once each has printed its ready
     * line; each process is added to {@code procs} as soon as it exists, so that the caller stops it on a failure. A
     * model server that exits or is not ready by {@code deadline} fails the start naming it, with its console's tail.
     */
    static List<Running> start(LaunchPlan plan, Deadline deadline, List<DaemonProcess> procs)
            throws InterruptedException {
        List<Running> out = new ArrayList<>();
        List<DaemonProcess> mine = new ArrayList<>();
        for (ModelServerPlan m : plan.modelServers()) {
            prepare(plan, m);
            DaemonProcess d = DaemonProcess.spawn(m.argv(), m.workDir(), m.console());
            procs.add(d);
            mine.add(d);
        }
        for (int i = 0; i < mine.size(); i++) {
            Running r = awaitReady(plan, plan.modelServers().get(i), mine.get(i), deadline, LAUNCH_STOPPED);
            out.add(r);
            guard(plan, r).ifPresent(procs::add);
        }
        return out;
    }

    /**
     * Under {@code --lease}: the lease guard watching the model server, as each shard has one, so that it stops when
     * the lease runs out with the shards (it would outlive them otherwise: nobody else may be left to stop it). Its
     * events name no shard. It exits by itself once the model server has.
     */
    private static Optional<DaemonProcess> guard(LaunchPlan plan, Running r) {
        if (plan.spec().lease().isEmpty()) {
            return Optional.empty();
        }
        ModelServerPlan m = r.plan();
        Path out = m.workDir().resolve("model-server-" + m.index() + ".lease.out");
        return Optional.of(DaemonProcess.spawn(List.of("/bin/bash", LeaseGuard.path(plan).toString(),
                Long.toString(r.pid()), "null"), m.workDir(), out));
    }

    /** Its directory (and the private socket directory) owner-only, the last run's console kept as NAME.1. */
    private static void prepare(LaunchPlan plan, ModelServerPlan m) {
        try {
            OwnerOnly.createDirectory(m.workDir());
            PreviousRun.keep(m.console());
            if (m.socketDirPrivate()) {
                privateDirectory(m.socket().getParent());
            }
            // a stale socket of a killed run is replaced by the model server itself
        } catch (IOException e) {
            throw new LaunchException("cannot prepare the --ai model server of '" + plan.id() + "' in " + m.workDir()
                    + " (socket " + m.socket() + "): " + e.getMessage(), e);
        }
    }

    /**
     * The private socket directory: created owner-only, or, when it is there already (a run that was killed), taken
     * only if it is a real directory of this user, never a link someone else put there.
     */
    static void privateDirectory(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            OwnerOnly.createDirectory(dir);
        }
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        String me = System.getProperty("user.name");
        if (!a.isDirectory() || !a.owner().getName().equals(me)) {
            throw new IOException(dir + " is " + (a.isDirectory() ? "a directory of " + a.owner().getName()
                    : "not a directory") + ", not a directory of " + me + "; remove it, or use a shorter --exp-dir so "
                    + "that the socket fits in the experiment directory");
        }
        OwnerOnly.restrict(dir, OwnerOnly.DIR);
    }

    /** What a failed start of the whole launch says it did. */
    private static final String LAUNCH_STOPPED = "every process of this launch was stopped";

    private static Running awaitReady(LaunchPlan plan, ModelServerPlan m, DaemonProcess d, Deadline deadline,
                                      String then) throws InterruptedException {
        Optional<ProcessHandle> h = d.handle(deadline.remaining());
        if (h.isEmpty()) {
            throw notReady(plan, m, d.exit().orElse("did not start in time"), then);
        }
        long pause = 2;
        while (!ready(m)) {
            Optional<String> exit = d.exit();
            if (exit.isPresent()) {
                throw notReady(plan, m, exit.get() + " before it was ready", then);
            }
            if (deadline.expired()) {
                throw notReady(plan, m, "was not ready within " + plan.spec().startupTimeout().toSeconds() + " s",
                        then);
            }
            Thread.sleep(pause);
            pause = Math.min(pause * 2, 50);
        }
        return new Running(m, h.get().pid(), h.get().info().startInstant());
    }

    /** Whether its console has the ready line (the console is new at each start: the last run's is NAME.1). */
    private static boolean ready(ModelServerPlan m) {
        try {
            return Files.readString(m.console()).contains(ModelServerPlan.READY);
        } catch (IOException e) {
            return false;
        }
    }

    private static ShardStartException notReady(LaunchPlan plan, ModelServerPlan m, String how, String then) {
        return new ShardStartException("the --ai model server of '" + plan.id() + "' (socket " + m.socket() + ") "
                + how + "; " + then + ".\n" + LogTail.block(m.console(), 12));
    }

    /** The recorded model server of {@code s} if it still runs: the same pid and start time, running the model server. */
    static Optional<ProcessHandle> recorded(LaunchedShard s) {
        String pid = s.handle().get(AiPlanner.HANDLE_PID);
        if (pid == null) {
            return Optional.empty();
        }
        Optional<String> start = Optional.ofNullable(s.handle().get(AiPlanner.HANDLE_START));
        return ProcessHandle.of(Long.parseLong(pid)).filter(LocalLauncher::running)
                .filter(h -> start.isEmpty() || h.info().startInstant().map(i -> i.toString().equals(start.get()))
                        .orElse(true))
                .filter(h -> h.info().arguments().map(a -> Arrays.asList(a).contains(AiPlanner.MODEL_SERVER_MAIN))
                        .orElse(true));
    }

    /**
     * Ends the model servers {@code shards} record (each once), after their shards: SIGTERM (its shutdown hook
     * removes the socket), SIGKILL after 5 s; then removes the socket and a private socket directory.
     */
    static void stop(List<LaunchedShard> shards) throws InterruptedException {
        Set<String> seen = new LinkedHashSet<>();
        for (LaunchedShard s : shards) {
            String socket = s.handle().get(AiPlanner.HANDLE_SOCKET);
            if (socket == null || !seen.add(s.handle().get(AiPlanner.HANDLE_PID) + " " + socket)) {
                continue;
            }
            Optional<ProcessHandle> h = recorded(s);
            if (h.isPresent()) {
                h.get().destroy();
                if (!awaitExit(h.get(), Duration.ofSeconds(5))) {
                    h.get().destroyForcibly();
                    awaitExit(h.get(), Duration.ofSeconds(5));
                }
            }
            removeSocket(Path.of(socket));
        }
    }

    /** Removes a model server's socket, and its directory when that is a private one ({@code /tmp/smartsim-ai-*}). */
    static void removeSocket(Path socket) {
        try {
            Files.deleteIfExists(socket);
            Path dir = socket.getParent();
            if (dir != null && dir.getFileName().toString().startsWith("smartsim-ai-")
                    && dir.getParent() != null && dir.getParent().toString().equals("/tmp")) {
                Files.deleteIfExists(dir); // only when empty: never what someone else put there
            }
        } catch (IOException e) {
            // left for a later stop: a directory not empty, or not ours
        }
    }

    /** Removes what a failed start of {@code plan} left: sockets and private socket directories. */
    static void removeSockets(LaunchPlan plan) {
        plan.modelServers().forEach(m -> removeSocket(m.socket()));
    }

    private static boolean awaitExit(ProcessHandle h, Duration limit) throws InterruptedException {
        long until = System.nanoTime() + limit.toNanos();
        while (LocalLauncher.running(h)) {
            if (System.nanoTime() >= until) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    /**
     * The model servers of {@code plan} that are gone while recorded for {@code shards}: each is started again (its
     * socket path as before, so the modules reconnect to it on their next model command and push their models), and
     * every shard recording an older one gets the running one in its handle. Returns the shards whose records changed.
     */
    static List<LaunchedShard> revive(LaunchPlan plan, List<LaunchedShard> shards, Deadline deadline)
            throws InterruptedException {
        List<LaunchedShard> changed = new ArrayList<>();
        for (ModelServerPlan m : plan.modelServers()) {
            List<LaunchedShard> served = shards.stream().filter(s -> m.shards().contains(s.index())).toList();
            if (served.isEmpty()) {
                continue;
            }
            Optional<LaunchedShard> withLive = served.stream().filter(s -> recorded(s).isPresent()).findFirst();
            Map<String, String> current;
            if (withLive.isPresent()) {
                current = only(withLive.get().handle());
            } else {
                current = running(m).orElseGet(() -> startOne(plan, m, deadline)).handle();
            }
            for (LaunchedShard s : served) {
                if (!only(s.handle()).equals(current)) {
                    changed.add(s.withHandleEntries(current));
                }
            }
        }
        return changed;
    }

    /** The model server of shard {@code index}, running: the recorded one, else a new one; its handle entries. */
    static Map<String, String> ensure(LaunchPlan plan, int index, LaunchedShard recorded, Deadline deadline)
            throws InterruptedException {
        Optional<ModelServerPlan> m = plan.modelServerOf(index);
        if (m.isEmpty()) {
            return Map.of();
        }
        if (recorded(recorded).isPresent()) {
            return only(recorded.handle());
        }
        return running(m.get()).orElseGet(() -> startOne(plan, m.get(), deadline)).handle();
    }

    /**
     * A model server of {@code m}'s socket that runs though no shard records it (started by a shard's restart that
     * then failed, or recorded by a shard whose record was not written): found by its command line, so that a second
     * one is never started beside it.
     */
    static Optional<Running> running(ModelServerPlan m) {
        return ProcessHandle.allProcesses().filter(h -> h.info().arguments().map(a -> {
            List<String> args = Arrays.asList(a);
            int i = args.indexOf("--socket");
            return args.contains(AiPlanner.MODEL_SERVER_MAIN) && i >= 0 && i + 1 < args.size()
                    && args.get(i + 1).equals(m.socket().toString());
        }).orElse(false)).filter(LocalLauncher::running).findFirst()
                .map(h -> new Running(m, h.pid(), h.info().startInstant()));
    }

    private static Running startOne(LaunchPlan plan, ModelServerPlan m, Deadline deadline) {
        try {
            return startOrThrow(plan, m, deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted while starting the model server of '" + plan.id() + "'", e);
        }
    }

    private static Running startOrThrow(LaunchPlan plan, ModelServerPlan m, Deadline deadline)
            throws InterruptedException {
        List<DaemonProcess> procs = new ArrayList<>();
        prepare(plan, m);
        DaemonProcess d = DaemonProcess.spawn(m.argv(), m.workDir(), m.console());
        procs.add(d);
        try {
            Running r = awaitReady(plan, m, d, deadline, "it was stopped; the shards keep serving data");
            guard(plan, r);
            return r;
        } catch (RuntimeException | InterruptedException e) {
            d.terminate(Duration.ofSeconds(5));
            removeSocket(m.socket());
            throw e;
        }
    }

    private static Map<String, String> only(Map<String, String> handle) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String k : List.of(AiPlanner.HANDLE_PID, AiPlanner.HANDLE_START, AiPlanner.HANDLE_SOCKET)) {
            if (handle.containsKey(k)) {
                out.put(k, handle.get(k));
            }
        }
        return out;
    }
}
