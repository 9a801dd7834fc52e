package io.smartsim.launch.spi;

import io.smartsim.launch.OrchestratorSpec;
import io.smartsim.launch.plan.LaunchPlan;
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
 */
public interface Launcher {

    /** The name users pass as {@code --launcher}. */
    String name();

    /**
     * What is known about the spec's nodes before launch. Validates the launcher-specific parts of the spec
     * (interfaces, launcher options) and throws {@link io.smartsim.launch.InvalidSpecException} naming the field.
     * Starts nothing.
     */
    Placement place(OrchestratorSpec spec);

    /**
     * The spec with its ports chosen, for {@code --port auto} ({@link OrchestratorSpec#autoPort()}): a launcher
     * that can see its nodes' ports returns the spec with a base port whose ports and bus ports are free. Others
     * refuse, which is the default.
     */
    default OrchestratorSpec choosePorts(OrchestratorSpec spec) {
        if (spec.autoPort()) {
            throw new io.smartsim.launch.InvalidSpecException("port", "the " + name() + " launcher cannot pick free "
                    + "ports (it cannot see its nodes' ports before launch); give a fixed base port, for example "
                    + "--port " + OrchestratorSpec.DEFAULT_PORT);
        }
        return spec;
    }

    /**
     * As {@link #choosePorts(OrchestratorSpec)}, knowing the experiment's directory: a launcher whose nodes cannot
     * hand a command's output back may have them leave it in a file there (PBS: OpenPBS's {@code pbsdsh} returns no
     * output). Core calls this one; the default ignores the directory.
     */
    default OrchestratorSpec choosePorts(OrchestratorSpec spec, java.nio.file.Path experimentDir) {
        return choosePorts(spec);
    }

    /**
     * Where this spec's files live and its commands run: this machine, or the login node of {@code --remote}. Core
     * reads and copies checkpoint data through it ({@code db start --resume}, the data records at {@code db stop}),
     * so that data on the cluster's file system is looked at there. The default is the transport the spec's options
     * name ({@link io.smartsim.launch.exec.Transports#open}); a launcher handed a runner returns that one. Do not
     * close it: it is shared.
     */
    default io.smartsim.launch.exec.CommandRunner transport(OrchestratorSpec spec) {
        return io.smartsim.launch.exec.Transports.open(spec.launcherOptions());
    }

    /**
     * Whether every shard runs on this machine (the local launcher), so that this machine's settings, such as its
     * ephemeral port range, hold for the shards' ports and core may warn from them. The default is false: the shards'
     * nodes are, or may be, other machines, whose settings are not read from here.
     */
    default boolean shardsOnThisMachine() {
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

    /**
     * Whether this launcher can {@link #restart} a shard ({@code --restart on-failure}). Launchers that cannot are
     * refused at plan time by name; the default is false.
     */
    default boolean canRestart() {
        return false;
    }

    /**
     * Whether this launcher starts a lease guard ({@link io.smartsim.launch.supervise.LeaseGuard}) next to each shard
     * of a plan with {@code --lease}. Launchers that do not are refused at plan time by name; the default is false.
     */
    default boolean canLease() {
        return false;
    }

    /**
     * Starts shard {@code dead.index()} of {@code plan} again after its process died: on the same node and port, with
     * its config and cluster state file as they are (nothing is rewritten, so a clustered shard rejoins with its node
     * id), and its lease guard under {@code --lease}. Reports the new process to {@link LaunchContext#spawned} as soon
     * as it exists and returns once it answers {@code PING}; on failure stops what it started and throws, naming the
     * shard and its log's tail. Only called when {@link #canRestart()}.
     */
    default LaunchedShard restart(LaunchPlan plan, LaunchedShard dead, LaunchContext context) {
        throw new io.smartsim.launch.LaunchException("the " + name() + " launcher cannot restart shards");
    }

    /**
     * Under {@code --ai} served by the Redis module: starts again each model server of the plan that is gone (the
     * shards' modules reconnect to its socket by themselves and push their models again), and returns the shards whose
     * records changed (their handles naming the new process), to be recorded. The watchdog calls it at every check
     * under {@code --restart on-failure}; throws naming the model server and its log's tail when one cannot start. The
     * default has none to revive (launchers whose shards run behind the front).
     */
    default List<LaunchedShard> reviveModelServers(LaunchPlan plan, List<LaunchedShard> shards, LaunchContext context) {
        return List.of();
    }

    /**
     * Under {@code --lease}, after the lease file on this machine was renewed to {@code expiry}: makes the shards'
     * lease guards see it. The default does nothing: the guards read that file (same machine, or a file system the
     * nodes share). A launcher whose hosts have their own copy (ssh) writes the new expiry there; it tries every host
     * and then throws naming those it could not reach (their shards keep the old expiry, the safe direction).
     */
    default void pushLease(LaunchPlan plan, List<LaunchedShard> shards, java.time.Instant expiry) {
    }

    /**
     * As {@link #pushLease(LaunchPlan, List, java.time.Instant)}, giving up on a host after {@code timeout} (the
     * renewing thread passes the time its hosts' current expiry leaves, so a host that hangs cannot hold back the
     * next renewal for long). The default ignores the timeout.
     */
    default void pushLease(LaunchPlan plan, List<LaunchedShard> shards, java.time.Instant expiry,
                           java.time.Duration timeout) {
        pushLease(plan, shards, expiry);
    }

    /**
     * The groups of {@code shards} that {@link #pushLease} reaches with one push each (one per SSH host for the ssh
     * launcher), so that renewals go to each group on its own and a slow or hung one holds back no other. The default:
     * all of them together (launchers whose push writes one file, or nothing).
     */
    default Map<String, List<LaunchedShard>> leaseTargets(List<LaunchedShard> shards) {
        return shards.isEmpty() ? Map.of() : Map.of("", shards);
    }

    /**
     * Under {@code --lease}: the indices of the shards among {@code shards} whose server process runs but whose lease
     * guard does not (killed, say): such a shard would outlive the lease. The watchdog asks every check and calls
     * {@link #restartGuard} for each. The default finds none: for launchers whose guard runs inside the shard's own
     * step or task (Slurm, PBS) it cannot be seen from here without a command on the node.
     */
    default java.util.Set<Integer> missingGuards(LaunchPlan plan, List<LaunchedShard> shards) {
        return java.util.Set.of();
    }

    /**
     * Starts the lease guard of {@code shard}, whose server still runs, again, beside it; returns the shard as it is to
     * be recorded from now on (its handle naming the new guard). Only called for shards {@link #missingGuards} named.
     */
    default LaunchedShard restartGuard(LaunchPlan plan, LaunchedShard shard) {
        throw new io.smartsim.launch.LaunchException("the " + name() + " launcher cannot start a lease guard again");
    }

    /** Process liveness as the launcher sees it. */
    enum Liveness { ALIVE, GONE, UNKNOWN }
}
