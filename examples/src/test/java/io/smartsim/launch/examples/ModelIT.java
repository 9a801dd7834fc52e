package io.smartsim.launch.examples;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The model against real redis-server shards started through the Experiment API, run as its own JVM that
 * knows only SSDB and SR_DB_TYPE. Needs redis-server on PATH.
 */
class ModelIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Pattern ROW = Pattern.compile("(\\S+:\\d+)\\s+(\\S+)\\s+(\\d+)");

    @TempDir
    Path dir;

    @Test
    void threeShardClusterSpreadsTenThousandKeysOverEveryShardAndStopsClean() throws Exception {
        int port = leftovers.shardPorts(freeBasePort(3, true), 3);
        List<Integer> ports = List.of(port, port + 1, port + 2);
        try (Experiment exp = Experiment.create("model-it", dir, System.err::println)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().id("clustered").instancesPerNode(3)
                    .port(port).build());
            exp.start(db);
            assertThat(redisServersOn(ports)).as("ps shows the shards while they run").hasSize(3);

            Run run = runModel(db);

            assertThat(run.exit()).as(run.output()).isZero();
            assertThat(run.lastLine()).matches("OK 10000 keys written and read back over 3 shards in \\d+\\.\\d\\d s");
            Map<String, Integer> perShard = run.keysPerShard();
            assertThat(perShard.keySet()).containsExactlyInAnyOrderElementsOf(db.addresses());
            assertThat(perShard.values()).allSatisfy(n -> assertThat(n).isPositive());
            assertThat(perShard.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(10_000);
            // the counts come from CRC16 and the slot map; each shard's own DBSIZE must agree
            perShard.forEach((address, n) -> assertThat(dbSize(db, address)).as("DBSIZE of " + address)
                    .isEqualTo(n.longValue()));
        }
        assertThat(redisServersOn(ports)).as("redis-server processes left after close").isEmpty();
        assertThat(IntStream.of(port, port + 1, port + 2, port + 10_000, port + 10_001, port + 10_002)
                .filter(p -> !bindable(p)).boxed().toList()).as("ports still taken after close").isEmpty();
    }

    @Test
    void standaloneShardHoldsEveryKey() throws Exception {
        int port = leftovers.shardPorts(freeBasePort(1, false), 1);
        try (Experiment exp = Experiment.create("model-it", dir, System.err::println)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().id("standalone").port(port).build());
            exp.start(db);
            assertThat(db.dbType()).isEqualTo("Standalone");

            Run run = runModel(db);

            assertThat(run.exit()).as(run.output()).isZero();
            assertThat(run.lastLine()).matches("OK 10000 keys written and read back over 1 shard in \\d+\\.\\d\\d s");
            assertThat(run.keysPerShard()).containsExactly(Map.entry(db.addresses().get(0), 10_000));
            assertThat(dbSize(db, db.addresses().get(0))).isEqualTo(10_000L);

            // The same model without SSDB_USER/SSDB_PASSWORD (an old client) is refused.
            ProcessBuilder noAuth = OneShot.modelProcess(db, List.of("--keys", "10")).redirectErrorStream(true);
            noAuth.environment().remove("SSDB_USER");
            noAuth.environment().remove("SSDB_PASSWORD");
            Process p = noAuth.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isEqualTo(Model.MISMATCH);
            assertThat(out).contains("NOAUTH");
        }
        assertThat(redisServersOn(List.of(port))).isEmpty();
        assertThat(bindable(port)).isTrue();
    }

    @Test
    void oneShotReturnsTheModelsExitCodeAndLeavesNothingRunning() throws Exception {
        int port = leftovers.shardPorts(freeBasePort(3, true), 3);
        assertThat(OneShot.run(dir, port)).isZero();
        assertThat(redisServersOn(List.of(port, port + 1, port + 2))).isEmpty();
    }

    private record Run(int exit, String output) {
        List<String> lines() {
            return output.lines().toList();
        }

        String lastLine() {
            List<String> l = lines();
            return l.isEmpty() ? "" : l.get(l.size() - 1);
        }

        /** The model's table: shard address to key count. */
        Map<String, Integer> keysPerShard() {
            Map<String, Integer> counts = new LinkedHashMap<>();
            for (String line : lines()) {
                Matcher m = ROW.matcher(line);
                if (m.matches()) {
                    counts.put(m.group(1), Integer.parseInt(m.group(3)));
                }
            }
            return counts;
        }
    }

    private static Run runModel(Orchestrator db) throws IOException, InterruptedException {
        Process p = OneShot.modelProcess(db, List.of()).redirectErrorStream(true).start();
        try {
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("model finished within 60 s").isTrue();
            return new Run(p.exitValue(), output);
        } finally {
            p.destroyForcibly();
        }
    }

    private static long dbSize(Orchestrator db, String address) {
        Credentials c = db.plan().auth().orElseThrow();
        try (Jedis j = new Jedis(HostAndPort.from(address), DefaultJedisClientConfig.builder().user(c.user())
                .password(c.password()).build())) {
            return j.dbSize();
        }
    }

    /** {@code ps} lines of redis-server processes listening on any of {@code ports} (their title is "redis-server host:port"). */
    private static List<String> redisServersOn(List<Integer> ports) throws IOException, InterruptedException {
        Process ps = new ProcessBuilder("ps", "-eo", "args").redirectErrorStream(true).start();
        List<String> lines = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertThat(ps.waitFor()).isZero();
        List<String> hits = new ArrayList<>();
        for (String line : lines) {
            for (int port : ports) {
                if (line.matches(".*redis-server\\S* \\S*:" + port + "\\b.*")) {
                    hits.add(line);
                }
            }
        }
        return hits;
    }

    /** The first base port from 7400 up whose shard ports (and cluster bus ports) are all free. */
    private static int freeBasePort(int shards, boolean clustered) {
        for (int base = 7400; base < 7600; base += 10) {
            int b = base;
            boolean free = IntStream.range(0, shards).allMatch(i -> bindable(b + i)
                    && (!clustered || bindable(b + i + OrchestratorSpec.BUS_PORT_OFFSET)));
            if (free) {
                return base;
            }
        }
        throw new IllegalStateException("no free ports for " + shards + " shards between 7400 and 7600 (and +10000)");
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true); // as redis-server does: connections in TIME_WAIT do not make a port busy
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
