package io.smartsim.launch.spi;

import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A workload-manager integration: local processes, Slurm, PBS, ... Implementations register in
 * {@code META-INF/services/io.smartsim.launch.spi.Launcher}, have a public no-argument constructor, and are
 * found by {@link #name()} through {@link Launchers}. Core calls them in this order: {@link #place},
 * (planning), {@link #preflight}, {@link #start}; later, possibly from another process, {@link #probe} and
 * {@link #stop} with the shards recorded in the manifest.
 *
 * <p>What a launcher can do beyond that is a type it implements, checked when core plans, never a method that throws:
 * {@link Restartable} ({@code --restart on-failure}), {@link Leasable} ({@code --lease}),
 * {@link Leasable.GuardWatch} (the watchdog restarts a killed lease guard) and {@link PortChooser}
 * ({@code --port auto}).
 */
public interface Launcher {

    /** The name users pass as {@code --launcher}. */
    String name();

    /**
     * What is known about the spec's nodes before launch. Validates the launcher-specific parts of the spec
     * (interfaces, launcher options) and throws {@link io.smartsim.launch.error.InvalidSpecException} naming the field.
     * Starts nothing.
     */
    Placement place(OrchestratorSpec spec);

    /**
     * This launcher working in {@code context}: where its commands run and the environment it reads
     * ({@link LauncherContext}). A launcher found by name works in this process's context
     * ({@link LauncherContext#process()}); a launcher that runs its commands through a transport returns one bound to
     * {@code context}. The default, for launchers that run nothing through one, is this launcher.
     */
    default Launcher in(LauncherContext context) {
        return this;
    }

    /**
     * Where this spec's files live and its commands run: this machine, or the login node of {@code --remote}. Core
     * reads and copies checkpoint data through it ({@code db start --resume}, the data records at {@code db stop}),
     * so that data on the cluster's file system is looked at there. The default is this machine (a launcher that takes
     * no {@code remote}); a launcher with a transport returns the one its context gives for the spec's options. Do not
     * close it: it may be shared.
     */
    default io.smartsim.launch.exec.CommandRunner transport(OrchestratorSpec spec) {
        return new io.smartsim.launch.exec.LocalCommandRunner();
    }

    /**
     * Whether every shard runs on this machine (the local launcher), so that this machine's settings, such as its
     * ephemeral port range, hold for the shards' ports and core may warn from them. The default is false: the shards'
     * nodes are, or may be, other machines, whose settings are not read from here.
     */
    default boolean shardsOnThisMachine() {
        return false;
    }

    /**
     * Whether {@link #start} holds each shard of {@code plan} until {@link LaunchContext#spawned} has returned for it:
     * should the process that started it end before (killed with SIGKILL), the shard ends too. Then the caller may
     * record the start once the first shard exists instead of before any does, and start it sooner: the record (JSON)
     * costs a new JVM about 0.1 s. The default is false: recorded before the start, as a batch job or a remote process
     * cannot be held from here.
     */
    default boolean holdsUntilRecorded(LaunchPlan plan) {
        return false;
    }

    /** Checks the machine for what the plan needs (binaries, free ports, ...). Starts nothing. */
    void preflight(LaunchPlan plan);

    /**
     * Starts every shard of the plan and returns once each one accepts connections ({@code PING}), in shard
     * order. Reports each process to {@link LaunchContext#spawned} as soon as it exists. If anything fails, it
     * stops everything it started before throwing; the exception names the shard, its port and its log's tail.
     */
    List<LaunchedShard> start(LaunchPlan plan, LaunchContext context);

    /**
     * The scripts {@link #start} would write for this plan, rendered but not written: name (its path relative to
     * {@link LaunchPlan#dir()}) to text, in the order worth reading. For {@code db plan} and dry runs; pure, starts
     * and writes nothing. Launchers that write no scripts return an empty map.
     */
    default Map<String, String> renderedScripts(LaunchPlan plan) {
        return Map.of();
    }

    /**
     * Makes recorded shards reachable for control connections ({@code PING}, {@code SHUTDOWN}, health checks) from
     * this process, which may not be the one that started them: a launcher whose transport is remote reopens it from
     * the shards' recorded handles and exposes each shard's address through it
     * ({@link io.smartsim.launch.exec.CommandRunner#expose}). Core calls it before every control-plane use of recorded
     * shards. Starts nothing; the default (shards reached directly) does nothing.
     */
    default void reach(List<LaunchedShard> shards) {
    }

    /** Whether each recorded shard's process still exists, keyed by shard index; one query for all shards. */
    Map<Integer, Liveness> probe(List<LaunchedShard> shards);

    /**
     * Under {@code --ai} served by the Redis module: whether the model server each recorded shard names in its handle
     * ({@link io.smartsim.launch.plan.AiPlanner#HANDLE_PID}, {@code HANDLE_START}) still runs, keyed by shard index;
     * shards that name none are left out. What {@code db status} shows. The default looks at this machine's processes
     * (the pid, its start time when recorded): where the local launcher runs its model server. A launcher whose model
     * servers run on other hosts asks those hosts; one that cannot see them from here can ask each shard's module
     * through the data plane ({@link io.smartsim.launch.cluster.ModelServerProbe}), logged in with
     * {@code plan}'s {@link LaunchPlan#access()}.
     *
     * @param plan   the orchestrator's plan as recorded (its credentials and TLS files, its model servers)
     * @param shards the shards the manifest recorded
     */
    default Map<Integer, Liveness> probeModelServers(LaunchPlan plan, List<LaunchedShard> shards) {
        Map<Integer, Liveness> out = new java.util.TreeMap<>();
        for (LaunchedShard s : shards) {
            String pid = s.handle().get(io.smartsim.launch.plan.AiPlanner.HANDLE_PID);
            if (pid == null) {
                continue;
            }
            String start = s.handle().get(io.smartsim.launch.plan.AiPlanner.HANDLE_START);
            boolean alive = ProcessHandle.of(Long.parseLong(pid)).filter(io.smartsim.launch.util.ProcStat::running)
                    .filter(h -> start == null || h.info().startInstant().map(i -> i.toString().equals(start))
                            .orElse(true))
                    .isPresent();
            out.put(s.index(), alive ? Liveness.ALIVE : Liveness.GONE);
        }
        return out;
    }

    /**
     * What the scheduler says about the jobs of recorded shards that have ended (state, exit status, its own comment),
     * for status to show when it finds shards gone; empty when there is nothing to say, which is the default.
     */
    default java.util.Optional<String> endedJobs(List<LaunchedShard> shards) {
        return java.util.Optional.empty();
    }

    /**
     * Makes sure the shards' processes are gone: waits up to {@code grace} for them to exit (core has already
     * sent {@code SHUTDOWN NOSAVE}), then terminates what is left. Safe to call for shards already gone.
     */
    void stop(List<LaunchedShard> shards, Duration grace);

    /** Process liveness as the launcher sees it. */
    enum Liveness { ALIVE, GONE, UNKNOWN }
}
