package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the user asks for: one orchestrator (database) of an experiment. Field-level checks run in the
 * constructor, so an instance is always self-consistent; checks that need the machine (interfaces,
 * ports in use, binaries) run when the plan is made.
 *
 * @param id                 orchestrator id, unique in its experiment; names directories and the {@code SSDB_<id>} variable
 * @param launcher           launcher name found through the SPI ("local", "slurm", ...)
 * @param backend            redis or keydb
 * @param nodes              nodes to spread the shards over
 * @param instancesPerNode   shards per node; the i-th shard of a node listens on {@code port + i}
 * @param port               base port; the cluster bus of each shard is its port + 10000
 * @param interfaces         network interfaces to bind; empty means the launcher's default (local: loopback)
 * @param cpusPerShard       CPUs each shard may use (server threads)
 * @param maxMemory          {@code maxmemory} per shard, e.g. "2gb"
 * @param evictionPolicy     {@code maxmemory-policy}
 * @param extraConfig        extra server config lines, appended verbatim
 * @param startupTimeout     one deadline for start, readiness and cluster forming
 * @param serverBinary       explicit server executable; empty means the backend's binary on PATH
 * @param launcherOptions    launcher-specific settings (for example a Slurm allocation), passed through
 * @param auth               a generated password for an ACL user, the default user locked and protected mode on
 *                           (the default); false ({@code --no-auth}) lets anyone who reaches a port read, change or
 *                           delete the data, for old clients that send no AUTH
 * @param autoPort           {@code --port auto}: the launcher picks free ports (and bus ports) from {@code port} up
 *                           before planning; the plan and the manifest record the ports chosen
 * @param tls                {@code --tls}: clients, replication and the cluster bus speak TLS only (the plain port is
 *                           off), with a CA and a server certificate generated for this orchestrator at each start;
 *                           models get the CA as {@code SSDB_TLS_CA}
 * @param replicas           {@code --replicas R}: each master gets R replicas, placed on other nodes than their master
 *                           where the allocation allows; Redis Cluster promotes a replica when its master dies. Needs a
 *                           cluster (3 or more masters); {@link #shardCount()} counts masters only
 * @param restart            {@code --restart}: whether a watchdog restarts dead shards
 * @param checkpoint         {@code --checkpoint}: RDB snapshots every interval, or an AOF, under the experiment directory
 * @param lease              {@code --lease}: shards shut themselves down when no controller has renewed the lease
 *                           for this long
 * @param ai                 {@code --ai}: the AI commands in every shard (the smartsim-ai module) and a model server
 *                           per host running models with these backends
 * @param telemetry          {@code --telemetry}, {@code --telemetry-interval}: the per-shard collector while it runs
 *                           (default on, every 5 s; absent from an older manifest means the default)
 */
public record OrchestratorSpec(
        String id,
        String launcher,
        Backend backend,
        int nodes,
        int instancesPerNode,
        int port,
        List<String> interfaces,
        int cpusPerShard,
        Optional<String> maxMemory,
        Optional<String> evictionPolicy,
        List<String> extraConfig,
        Duration startupTimeout,
        Optional<Path> serverBinary,
        Map<String, String> launcherOptions,
        boolean auth,
        boolean autoPort,
        boolean tls,
        int replicas,
        RestartPolicy restart,
        Optional<Checkpoint> checkpoint,
        Optional<Duration> lease,
        Optional<AiSpec> ai,
        TelemetrySpec telemetry) {

    public static final String DEFAULT_ID = "orchestrator";
    public static final int DEFAULT_PORT = 6780;
    public static final int BUS_PORT_OFFSET = 10000;
    public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(60);
    public static final int MAX_REPLICAS = 15;
    public static final Duration MIN_LEASE = Duration.ofSeconds(5);

    /** The policies Redis and KeyDB both accept for {@code maxmemory-policy}. */
    public static final Set<String> EVICTION_POLICIES = Set.of("noeviction", "allkeys-lru", "allkeys-lfu",
            "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl");

    private static final Pattern ID = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,62}");
    private static final Pattern MEMORY = Pattern.compile("(?i)[0-9]+(b|k|kb|m|mb|g|gb)?");
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]*");
    /** Ids whose {@code SSDB_<id>} would be a credential variable of the first orchestrator. */
    private static final Pattern RESERVED_ID = Pattern.compile("(USER|PASSWORD|TLS_CA)(_.*)?");

    public OrchestratorSpec {
        if (id == null || !ID.matcher(id).matches()) {
            throw new InvalidSpecException("id", "'" + id + "' is not a valid orchestrator id; use a letter followed by "
                    + "up to 62 letters, digits, '_' or '-' (for example 'orchestrator' or 'db2')");
        }
        if (RESERVED_ID.matcher(id).matches()) {
            throw new InvalidSpecException("id", "'" + id + "' is reserved: models would get its address as SSDB_" + id
                    + ", a name used for database credentials (SSDB_USER, SSDB_PASSWORD, SSDB_TLS_CA); choose another id");
        }
        if (launcher == null || !NAME.matcher(launcher).matches()) {
            throw new InvalidSpecException("launcher", "'" + launcher + "' is not a launcher name; use for example 'local'");
        }
        if (backend == null) {
            throw new InvalidSpecException("backend", "missing; use redis or keydb");
        }
        if (nodes < 1) {
            throw new InvalidSpecException("nodes", nodes + " is not a node count; use 1 or more");
        }
        if (instancesPerNode < 1) {
            throw new InvalidSpecException("instancesPerNode", instancesPerNode
                    + " is not a shard count; use 1 or more shards per node");
        }
        long shards = (long) nodes * instancesPerNode;
        if (shards == 2) {
            throw new InvalidSpecException("nodes/instancesPerNode", nodes + " node(s) x " + instancesPerNode
                    + " per node = 2 shards, but a Redis Cluster needs at least 3 masters; use 1 shard (standalone) "
                    + "or 3 or more (cluster)");
        }
        if (shards > 16384) {
            throw new InvalidSpecException("nodes/instancesPerNode", nodes + " x " + instancesPerNode + " = " + shards
                    + " shards, but a Redis Cluster has only 16384 hash slots; use at most 16384 shards");
        }
        int lastPort = port + instancesPerNode - 1;
        int busTop = shards >= 3 ? lastPort + BUS_PORT_OFFSET : lastPort;
        if (port < 1 || busTop > 65535) {
            int maxBase = (shards >= 3 ? 65535 - BUS_PORT_OFFSET : 65535) - instancesPerNode + 1;
            throw new InvalidSpecException("port", port + " is out of range: " + instancesPerNode + " shard(s) per node use ports "
                    + port + "-" + lastPort + (shards >= 3 ? " and cluster bus ports " + (port + BUS_PORT_OFFSET) + "-"
                    + (lastPort + BUS_PORT_OFFSET) : "") + "; use a base port between 1024 and " + maxBase);
        }
        interfaces = List.copyOf(interfaces == null ? List.of() : interfaces);
        for (String itf : interfaces) {
            if (itf == null || itf.isBlank()) {
                throw new InvalidSpecException("interfaces", "an empty interface name; give names such as lo or ib0");
            }
        }
        if (cpusPerShard < 1 || cpusPerShard > 128) {
            throw new InvalidSpecException("cpusPerShard", cpusPerShard + " is out of range; use 1 to 128");
        }
        maxMemory = maxMemory == null ? Optional.empty() : maxMemory;
        maxMemory.ifPresent(m -> {
            if (!MEMORY.matcher(m).matches()) {
                throw new InvalidSpecException("maxMemory", "'" + m + "' is not a memory size; use for example 512mb or 4gb");
            }
        });
        evictionPolicy = evictionPolicy == null ? Optional.empty() : evictionPolicy;
        evictionPolicy.ifPresent(p -> {
            if (!EVICTION_POLICIES.contains(p)) {
                throw new InvalidSpecException("evictionPolicy", "'" + p + "' is not an eviction policy; use one of "
                        + String.join(", ", EVICTION_POLICIES.stream().sorted().toList()));
            }
        });
        extraConfig = List.copyOf(extraConfig == null ? List.of() : extraConfig);
        for (String line : extraConfig) {
            if (line == null || line.isBlank() || line.contains("\n") || line.contains("\r")) {
                throw new InvalidSpecException("extraConfig", "'" + line + "' is not one config line; give each "
                        + "setting as its own single line, for example 'hz 20'");
            }
        }
        if (startupTimeout == null || startupTimeout.isNegative() || startupTimeout.isZero()) {
            throw new InvalidSpecException("startupTimeout", startupTimeout + " is not a timeout; use a positive "
                    + "duration, for example 60 seconds");
        }
        serverBinary = serverBinary == null ? Optional.empty() : serverBinary;
        launcherOptions = Map.copyOf(launcherOptions == null ? Map.of() : launcherOptions);
        if (replicas < 0 || replicas > MAX_REPLICAS) {
            throw new InvalidSpecException("replicas", replicas + " is out of range; use 0 (no replicas) to " + MAX_REPLICAS);
        }
        if (replicas > 0 && shards < 3) {
            throw new InvalidSpecException("replicas", "--replicas " + replicas + " needs a Redis Cluster, which promotes "
                    + "a replica when its master dies, but " + nodes + " x " + instancesPerNode + " = " + shards
                    + " shard runs standalone; use 3 or more shards (masters) or no replicas");
        }
        restart = restart == null ? RestartPolicy.NO : restart;
        checkpoint = checkpoint == null ? Optional.empty() : checkpoint;
        lease = lease == null ? Optional.empty() : lease;
        lease.ifPresent(l -> {
            if (l.compareTo(MIN_LEASE) < 0) {
                throw new InvalidSpecException("lease", Durations.format(l) + " is too short: "
                        + "shards would stop between two renewals; use " + MIN_LEASE.toSeconds() + "s or more, for "
                        + "example 10m");
            }
        });
        ai = ai == null ? Optional.empty() : ai;
        telemetry = telemetry == null ? TelemetrySpec.DEFAULT : telemetry;
    }

    /** As the canonical constructor, without TLS. */
    public OrchestratorSpec(String id, String launcher, Backend backend, int nodes, int instancesPerNode, int port,
                            List<String> interfaces, int cpusPerShard, Optional<String> maxMemory,
                            Optional<String> evictionPolicy, List<String> extraConfig, Duration startupTimeout,
                            Optional<Path> serverBinary, Map<String, String> launcherOptions, boolean auth,
                            boolean autoPort) {
        this(id, launcher, backend, nodes, instancesPerNode, port, interfaces, cpusPerShard, maxMemory, evictionPolicy,
                extraConfig, startupTimeout, serverBinary, launcherOptions, auth, autoPort, false, 0, RestartPolicy.NO,
                Optional.empty(), Optional.empty(), Optional.empty(), TelemetrySpec.DEFAULT);
    }

    /** Total shards (masters): nodes x instances per node. Replicas come on top: see {@link #processCount()}. */
    public int shardCount() {
        return nodes * instancesPerNode;
    }

    /** Server processes: every master and its replicas. */
    public int processCount() {
        return shardCount() * (1 + replicas);
    }

    /** Three or more shards form a Redis Cluster; one runs standalone. */
    public boolean clustered() {
        return shardCount() >= 3;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.id = id;
        b.launcher = launcher;
        b.backend = backend;
        b.nodes = nodes;
        b.instancesPerNode = instancesPerNode;
        b.port = port;
        b.interfaces = new ArrayList<>(interfaces);
        b.cpusPerShard = cpusPerShard;
        b.maxMemory = maxMemory.orElse(null);
        b.evictionPolicy = evictionPolicy.orElse(null);
        b.extraConfig = new ArrayList<>(extraConfig);
        b.startupTimeout = startupTimeout;
        b.serverBinary = serverBinary.orElse(null);
        b.launcherOptions = new LinkedHashMap<>(launcherOptions);
        b.auth = auth;
        b.autoPort = autoPort;
        b.tls = tls;
        b.replicas = replicas;
        b.restart = restart;
        b.checkpoint = checkpoint.orElse(null);
        b.lease = lease.orElse(null);
        b.ai = ai.orElse(null);
        b.telemetry = telemetry;
        return b;
    }

    /** Mutable builder with SmartSim-like defaults: 1 node, 1 shard, port 6780, launcher local, redis. */
    public static final class Builder {
        private String id = DEFAULT_ID;
        private String launcher = "local";
        private Backend backend = Backend.REDIS;
        private int nodes = 1;
        private int instancesPerNode = 1;
        private int port = DEFAULT_PORT;
        private List<String> interfaces = new ArrayList<>();
        private int cpusPerShard = 1;
        private String maxMemory;
        private String evictionPolicy;
        private List<String> extraConfig = new ArrayList<>();
        private Duration startupTimeout = DEFAULT_STARTUP_TIMEOUT;
        private Path serverBinary;
        private Map<String, String> launcherOptions = new LinkedHashMap<>();
        private boolean auth = true;
        private boolean autoPort;
        private boolean tls;
        private int replicas;
        private RestartPolicy restart = RestartPolicy.NO;
        private Checkpoint checkpoint;
        private Duration lease;
        private AiSpec ai;
        private TelemetrySpec telemetry = TelemetrySpec.DEFAULT;

        private Builder() {
        }

        public Builder id(String v) { this.id = v; return this; }
        public Builder launcher(String v) { this.launcher = v; return this; }
        public Builder backend(Backend v) { this.backend = v; return this; }
        public Builder nodes(int v) { this.nodes = v; return this; }
        public Builder instancesPerNode(int v) { this.instancesPerNode = v; return this; }
        public Builder port(int v) { this.port = v; return this; }
        public Builder interfaces(List<String> v) { this.interfaces = new ArrayList<>(v); return this; }
        public Builder interfaceName(String v) { this.interfaces = new ArrayList<>(List.of(v)); return this; }
        public Builder cpusPerShard(int v) { this.cpusPerShard = v; return this; }
        public Builder maxMemory(String v) { this.maxMemory = v; return this; }
        public Builder evictionPolicy(String v) { this.evictionPolicy = v; return this; }
        public Builder extraConfig(List<String> v) { this.extraConfig = new ArrayList<>(v); return this; }
        public Builder addConfig(String line) { this.extraConfig.add(line); return this; }
        public Builder startupTimeout(Duration v) { this.startupTimeout = v; return this; }
        public Builder serverBinary(Path v) { this.serverBinary = v; return this; }
        public Builder launcherOption(String key, String value) { this.launcherOptions.put(key, value); return this; }
        /** Replaces every launcher option. */
        public Builder launcherOptions(Map<String, String> v) { this.launcherOptions = new LinkedHashMap<>(v); return this; }
        /** Password authentication (default on); off only for clients that cannot send AUTH. */
        public Builder auth(boolean v) { this.auth = v; return this; }
        /** Let the launcher pick free ports from {@link #port} up ({@code --port auto}). */
        public Builder autoPort(boolean v) { this.autoPort = v; return this; }
        /** TLS only ({@code --tls}): a per-orchestrator CA and certificate, the plain port off. */
        public Builder tls(boolean v) { this.tls = v; return this; }
        /** Replicas per master ({@code --replicas}); needs a cluster. */
        public Builder replicas(int v) { this.replicas = v; return this; }
        /** Restart dead shards ({@code --restart on-failure}). */
        public Builder restart(RestartPolicy v) { this.restart = v; return this; }
        /** Persist data ({@code --checkpoint}); null for none. */
        public Builder checkpoint(Checkpoint v) { this.checkpoint = v; return this; }
        /** Shards stop themselves when the lease is not renewed for this long ({@code --lease}); null for none. */
        public Builder lease(Duration v) { this.lease = v; return this; }
        /** Serve models on every shard ({@code --ai}); null for none. */
        public Builder ai(AiSpec v) { this.ai = v; return this; }
        /** The per-shard collector while it runs ({@link TelemetrySpec#OFF} for none). */
        public Builder telemetry(TelemetrySpec v) { this.telemetry = v; return this; }

        public OrchestratorSpec build() {
            return new OrchestratorSpec(id, launcher, backend, nodes, instancesPerNode, port, interfaces, cpusPerShard,
                    Optional.ofNullable(maxMemory), Optional.ofNullable(evictionPolicy), extraConfig, startupTimeout,
                    Optional.ofNullable(serverBinary), launcherOptions, auth, autoPort, tls, replicas, restart,
                    Optional.ofNullable(checkpoint), Optional.ofNullable(lease), Optional.ofNullable(ai), telemetry);
        }
    }
}
