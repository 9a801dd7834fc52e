package io.smartsim.launch.cli;

import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.spec.Backend;
import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.TelemetrySpec;
import io.smartsim.launch.spec.RestartPolicy;
import io.smartsim.launch.spec.Durations;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The options that describe an orchestrator, for {@code db plan} and {@code db start}. Validation is the
 * spec's: this class only carries values across, so the CLI and the Java API reject the same input.
 */
public final class SpecOptions {
    @Option(names = "--launcher", paramLabel = "NAME", order = 10,
            description = "Launcher: where the shards run (default: ${DEFAULT-VALUE}; 'doctor' lists those available).")
    String launcher;

    @Option(names = "--nodes", paramLabel = "N", order = 11, description = "Nodes (default: ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--per-node", paramLabel = "K", order = 12,
            description = "Shards per node (default: ${DEFAULT-VALUE}). 1 shard runs standalone, 3 or more form a "
                    + "Redis Cluster; 2 is refused.")
    int perNode;

    @Option(names = "--port", paramLabel = "P|auto", order = 13,
            description = "Base port; the k-th shard of a node listens on P+k, its cluster bus on P+k+10000 "
                    + "(default: ${DEFAULT-VALUE}). 'auto' (local launcher): the first free ports from "
                    + OrchestratorSpec.DEFAULT_PORT + " up, recorded in the manifest. A fixed port that is busy fails "
                    + "before anything starts, naming the process that holds it where the system can tell.")
    String port;

    @Option(names = "--interface", paramLabel = "IF", split = ",", order = 14,
            description = "Network interface to bind, repeatable or comma-separated (default: loopback for the "
                    + "local launcher).")
    List<String> interfaces = new ArrayList<>();

    @Option(names = "--backend", paramLabel = "redis|keydb", order = 15,
            description = "Database server (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--timeout", paramLabel = "SECONDS", order = 16,
            description = "One deadline for starting, readiness and cluster forming (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--cpus", paramLabel = "N", order = 17,
            description = "CPUs (server threads) per shard (default: ${DEFAULT-VALUE}).")
    int cpus;

    @Option(names = "--max-memory", paramLabel = "SIZE", order = 18,
            description = "maxmemory per shard, for example 2gb (default: unlimited).")
    String maxMemory;

    @Option(names = "--eviction", paramLabel = "POLICY", order = 19,
            description = "maxmemory-policy, for example allkeys-lru (default: the server's).")
    String eviction;

    @Option(names = "--config", paramLabel = "LINE", order = 20,
            description = "An extra server config line, appended verbatim (repeatable), for example --config 'hz 20'.")
    List<String> config = new ArrayList<>();

    @Option(names = "--server-binary", paramLabel = "PATH", order = 21,
            description = "The server executable (default: redis-server or keydb-server on PATH).")
    Path serverBinary;

    @Option(names = "--no-auth", order = 22, negatable = true,
            description = "No password. By default each orchestrator gets a generated password for an ACL user "
                    + "(models get SSDB_USER/SSDB_PASSWORD) and refuses clients without it. Only for clients that "
                    + "cannot send AUTH (SmartRedis): anyone who can reach the ports can then read, change or "
                    + "delete the data. --auth: a password again, on a resume of a run without one.")
    boolean noAuth;

    @Option(names = "--tls", order = 23, negatable = true,
            description = "TLS only: a CA and a certificate made for this orchestrator at each start (openssl), the "
                    + "plain-text port off, TLS on the cluster bus and for replication. Models get the CA's path as "
                    + "SSDB_TLS_CA and must trust it (redis-cli --tls --cacert \"$SSDB_TLS_CA\"). Every launcher "
                    + "(pbs not with --remote); made where db start runs, copied to ssh hosts and login nodes. "
                    + "--no-tls: plain text, on a resume of a run with TLS.")
    boolean tls;

    @Option(names = "--replicas", paramLabel = "R", order = 24,
            description = "Replicas per master (default: 0). Each replica runs on another node than its master where "
                    + "the allocation allows; Redis Cluster promotes one when its master dies. Needs 3 or more shards.")
    int replicas;

    @Option(names = "--restart", paramLabel = "no|on-failure", order = 25,
            description = "on-failure: a watchdog restarts a dead shard on the same node and port with its cluster "
                    + "state; every transition goes to the events log shown by 'db status' (default: no).")
    String restart;

    @Option(names = "--checkpoint", paramLabel = "every=DURATION|aof", order = 26,
            description = "Persist each shard's data under the experiment directory: an RDB snapshot every DURATION "
                    + "(for example every=5m) or an append-only file (aof). 'db start --resume' brings it back.")
    String checkpoint;

    @Option(names = "--lease", paramLabel = "DURATION", order = 27,
            description = "Shards shut themselves down when no controller has renewed the lease for DURATION "
                    + "(for example 10m), so a crashed workflow cannot leave a database running. 'db start' renews it "
                    + "while the shell or script that ran it lives; 'db renew' renews it from anywhere.")
    String lease;

    @Option(names = "--telemetry", paramLabel = "on|off", order = 31,
            description = "Record each shard's INFO figures under the experiment directory while the orchestrator "
                    + "runs (default: on; 'db start' then leaves a 'db watch' process that records them).")
    String telemetry;

    @Option(names = "--telemetry-interval", paramLabel = "DURATION", order = 32,
            description = "Time between two samples of a shard (default: 5s; at least 100ms).")
    String telemetryInterval;

    @Option(names = "--ai", paramLabel = "BACKEND[,BACKEND...]", split = ",", order = 28,
            description = "Serve models on every shard with RedisAI's commands, using these backends (onnx, torch, "
                    + "tf; 'doctor' lists those installed).")
    List<String> ai = new ArrayList<>();

    @Option(names = "--ai-device", paramLabel = "cpu|gpu", order = 29,
            description = "Device for --ai models (default: cpu).")
    String aiDevice;

    @Option(names = "--ai-threads", paramLabel = "N", order = 30,
            description = "Intra-op threads per model for --ai (default: 0, the runtime chooses).")
    int aiThreads;

    private static final String AUTO = "auto";

    private int basePort() {
        if (port == null || AUTO.equals(port)) {
            return OrchestratorSpec.DEFAULT_PORT;
        }
        try {
            return Integer.parseInt(port.strip());
        } catch (NumberFormatException e) {
            throw new InvalidSpecException("port", "'" + port + "' is not a port; give a number such as "
                    + OrchestratorSpec.DEFAULT_PORT + ", or auto");
        }
    }

    OrchestratorSpec toSpec(String id, Map<String, String> launcherOptions) {
        OrchestratorSpec.Builder b = OrchestratorSpec.builder().id(id);
        launcherOptions.forEach(b::launcherOption);
        return apply(b, option -> true, Optional.empty()).build();
    }

    /**
     * {@code db start --resume}: the recorded spec ({@code Experiment.specToResume}) with only the options given on
     * the command line ({@code given}, by their longest name) put over it. Launcher options: the recorded ones, then
     * the given ones over them; an empty value given ({@code --remote ''}) removes the recorded one; an allocation
     * given ({@code --alloc}) replaces a recorded batch job and its settings ({@code batchKeys}); another launcher
     * given takes none of the recorded launcher's options.
     */
    OrchestratorSpec over(OrchestratorSpec recorded, String id, Map<String, String> launcherOptions,
                          Set<String> batchKeys, Predicate<String> given) {
        OrchestratorSpec.Builder b = recorded.toBuilder().id(id);
        Map<String, String> options = new LinkedHashMap<>(recorded.launcherOptions());
        if (given.test("--launcher") && !launcher.equals(recorded.launcher())) {
            options.clear();
        }
        if (launcherOptions.containsKey("alloc")) {
            options.keySet().removeAll(batchKeys);
        }
        launcherOptions.forEach((k, v) -> {
            if (v.isEmpty()) {
                options.remove(k);
            } else {
                options.put(k, v);
            }
        });
        b.launcherOptions(options);
        return apply(b, given, recorded.ai()).build();
    }

    /** Sets on {@code b} each option for which {@code given} holds; {@code ai} is what --ai-device/--ai-threads amend. */
    private OrchestratorSpec.Builder apply(OrchestratorSpec.Builder b, Predicate<String> given, Optional<AiSpec> ai) {
        if (given.test("--launcher")) {
            b.launcher(launcher);
        }
        if (given.test("--backend")) {
            b.backend(Backend.parse(backend));
        }
        if (given.test("--nodes")) {
            b.nodes(nodes);
        }
        if (given.test("--per-node")) {
            b.instancesPerNode(perNode);
        }
        if (given.test("--port")) {
            b.port(basePort()).autoPort(AUTO.equals(port));
        }
        if (given.test("--interface")) {
            b.interfaces(interfaces);
        }
        if (given.test("--cpus")) {
            b.cpusPerShard(cpus);
        }
        if (given.test("--config")) {
            b.extraConfig(config);
        }
        if (given.test("--timeout")) {
            b.startupTimeout(Duration.ofSeconds(timeoutSeconds));
        }
        if (given.test("--no-auth")) {
            b.auth(!noAuth);
        }
        if (given.test("--tls")) {
            b.tls(tls);
        }
        if (maxMemory != null) {
            b.maxMemory(maxMemory);
        }
        if (eviction != null) {
            b.evictionPolicy(eviction);
        }
        if (serverBinary != null) {
            b.serverBinary(serverBinary);
        }
        if (given.test("--replicas")) {
            b.replicas(replicas);
        }
        if (restart != null) {
            b.restart(RestartPolicy.parse(restart));
        }
        if (checkpoint != null) {
            b.checkpoint(Checkpoint.parse(checkpoint));
        }
        if (lease != null) {
            b.lease(Durations.parse("lease", lease));
        }
        if (telemetry != null || telemetryInterval != null) {
            TelemetrySpec before = b.build().telemetry();
            b.telemetry(new TelemetrySpec(telemetry != null ? TelemetrySpec.parseSwitch(telemetry) : before.on(),
                    telemetryInterval != null ? Durations.parse("telemetry-interval", telemetryInterval)
                            : before.interval()));
        }
        if (!this.ai.isEmpty()) {
            b.ai(new AiSpec(this.ai, aiDevice, aiThreads));
        } else if (aiDevice != null || aiThreads != 0) {
            AiSpec before = ai.orElseThrow(() -> new InvalidSpecException("ai", "--ai-device and --ai-threads need "
                    + "--ai BACKEND[,BACKEND...], for example --ai onnx"));
            b.ai(new AiSpec(before.backends(), aiDevice != null ? aiDevice : before.device(),
                    given.test("--ai-threads") ? aiThreads : before.threads()));
        }
        return b;
    }

    /** Defaults come from {@link OrchestratorSpec#builder()}, so the CLI and the API never disagree. */
    public static final class Defaults implements IDefaultValueProvider {
        private static final OrchestratorSpec SPEC = OrchestratorSpec.builder().build();
        private static final Map<String, String> VALUES = Map.of(
                "--launcher", SPEC.launcher(),
                "--nodes", Integer.toString(SPEC.nodes()),
                "--per-node", Integer.toString(SPEC.instancesPerNode()),
                "--port", Integer.toString(SPEC.port()),
                "--backend", SPEC.backend().id(),
                "--timeout", Long.toString(SPEC.startupTimeout().toSeconds()),
                "--cpus", Integer.toString(SPEC.cpusPerShard()));

        @Override
        public String defaultValue(ArgSpec arg) {
            return arg instanceof OptionSpec o ? VALUES.get(o.longestName()) : null;
        }
    }
}
