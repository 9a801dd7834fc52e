package io.smartsim.launch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code db start --replicas 1} from the shaded jar, a master killed with SIGKILL, and {@code db status} through the
 * failover: DEGRADED and not serving (exit 1), then DEGRADED but serving every slot (exit 3); stop leaves nothing.
 * The replica is held back from failing over until the test has seen the first state.
 */
class ReplicasCliIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final int BUS = TestServers.BUS;

    @TempDir
    Path tmp;

    private Path exp;
    private JarRunner jar;
    private int port;

    @BeforeEach
    void setUp() throws IOException {
        TestServers.assumeJarAndRedis();
        exp = tmp.resolve("exp");
        jar = JarRunner.in(tmp);
        port = leftovers.shardPorts(TestServers.freeBlock(21000, 6), 6);
    }

    /**
     * Holds the replica at {@code replicaPort} back from failing over its master ({@code cluster-replica-no-failover}),
     * or lets it. Whatever the age of its data by then: how long the test held it back does not matter.
     */
    private void failover(int replicaPort, boolean allowed) throws IOException {
        JsonNode auth = Json.mapper().readTree(exp.resolve("manifest.json").toFile()).get("orchestrators").get(0)
                .get("plan").get("auth");
        try (Jedis j = new Jedis(new HostAndPort("127.0.0.1", replicaPort), DefaultJedisClientConfig.builder()
                .user(auth.get("user").asText()).password(auth.get("password").asText()).build())) {
            assertThat(j.configSet("cluster-replica-validity-factor", "0")).isEqualTo("OK");
            assertThat(j.configSet("cluster-replica-no-failover", allowed ? "no" : "yes")).isEqualTo("OK");
        }
    }

    private JsonNode status() throws Exception {
        JarRunner.Result r = jar.cli("db", "status", "--exp-dir", exp.toString(), "--json");
        JsonNode o = Json.mapper().readTree(r.out()).get("orchestrators").get(0);
        ((com.fasterxml.jackson.databind.node.ObjectNode) o).put("exit", r.exit());
        return o;
    }

    @Test
    void statusFollowsAFailoverFromDegradedToServingAgain() throws Exception {
        JarRunner.Result start = jar.cli("db", "start", "--exp-dir", exp.toString(), "--per-node", "3",
                "--replicas", "1", "--port", Integer.toString(port));
        assertThat(start.exit()).as(start.toString()).isZero();
        assertThat(start.err()).contains("warning: every replica shares host localhost with its master");
        assertThat(start.outLines()).anyMatch(l -> l.matches("  3 +127\\.0\\.0\\.1:" + (port + 3)
                + " +\\d+ +replica of 0 +- +.*"));
        System.out.println("db start of 3 masters x 1 replica took " + start.took().toMillis()
                + " ms (JVM start included)");

        JsonNode healthy = status();
        assertThat(healthy.get("exit").asInt()).as(healthy.toString()).isZero();
        assertThat(healthy.get("state").asText()).isEqualTo("RUNNING");
        assertThat(healthy.get("summary").asText()).isEqualTo("all 16384 slots served, 6 of 6 process(es) up");
        JsonNode r3 = healthy.get("shards").get(3);
        assertThat(r3.get("role").asText()).isEqualTo("slave");
        assertThat(r3.get("plannedRole").asText()).isEqualTo("replica of 0");
        assertThat(r3.get("replicaOf").asText()).isEqualTo("127.0.0.1:" + port);
        assertThat(r3.get("masterLink").asText()).isEqualTo("up");

        // The replica of shard 0 may not fail over until the test has seen the orchestrator not serving: each
        // `db status` starts a JVM, which may take longer than the node timeout (5 s) on a loaded machine.
        failover(port + 3, false);
        long pid = healthy.get("shards").get(0).get("pid").asLong();
        ProcessHandle master = ProcessHandle.of(pid).orElseThrow();
        master.destroyForcibly(); // SIGKILL
        master.onExit().get(5, TimeUnit.SECONDS);

        JsonNode lost = status();
        assertThat(lost.get("state").asText()).isEqualTo("DEGRADED");
        assertThat(lost.get("serving").asBoolean()).isFalse();
        assertThat(lost.get("exit").asInt()).isEqualTo(1);
        assertThat(lost.get("shards").get(0).get("process").asText()).isEqualTo("gone");

        JarRunner.Result text = jar.cli("db", "status", "--exp-dir", exp.toString());
        assertThat(text.outLines().get(0)).startsWith("orchestrator 'orchestrator' of experiment 'exp': DEGRADED");

        failover(port + 3, true);
        long allowed = System.nanoTime();
        JsonNode served = lost;
        while (!served.get("serving").asBoolean() && System.nanoTime() - allowed < 30_000_000_000L) {
            Thread.sleep(200);
            served = status();
        }
        System.out.printf("serving again %.1f s after the failover was let happen%n", (System.nanoTime() - allowed)
                / 1e9);
        assertThat(served.get("serving").asBoolean()).as(served.toString()).isTrue();
        assertThat(served.get("state").asText()).isEqualTo("DEGRADED");
        assertThat(served.get("exit").asInt()).as("exit code of a DEGRADED orchestrator still serving").isEqualTo(3);
        assertThat(served.get("summary").asText()).isEqualTo("all 16384 slots served, 5 of 6 process(es) up");
        JsonNode promoted = served.get("shards").get(3);
        assertThat(promoted.get("role").asText()).isEqualTo("master");
        assertThat(promoted.get("plannedRole").asText()).isEqualTo("replica of 0");

        JarRunner.Result table = jar.cli("db", "status", "--exp-dir", exp.toString());
        assertThat(table.exit()).isEqualTo(3);
        assertThat(table.outLines().get(0)).isEqualTo("orchestrator 'orchestrator' of experiment 'exp': DEGRADED, "
                + "serving (cluster state ok; all 16384 slots served, 5 of 6 process(es) up; redundancy lost until the "
                + "gone process is back)");
        assertThat(table.outLines()).anyMatch(l -> l.matches("  3 +127\\.0\\.0\\.1:" + (port + 3)
                + " +\\d+ +alive +yes +master \\(planned replica of 0\\) +0-5461 .*"));

        JarRunner.Result stop = jar.cli("db", "stop", "--exp-dir", exp.toString());
        assertThat(stop.exit()).as(stop.toString()).isZero();
    }

    @Test
    void aMasterWithoutReplicaKilledIsDegradedNamingItsSlotsWithExitCode1() throws Exception {
        JarRunner.Result start = jar.cli("db", "start", "--exp-dir", exp.toString(), "--per-node", "3",
                "--port", Integer.toString(port));
        assertThat(start.exit()).as(start.toString()).isZero();
        long pid = status().get("shards").get(1).get("pid").asLong();
        ProcessHandle master = ProcessHandle.of(pid).orElseThrow();
        master.destroyForcibly(); // SIGKILL
        master.onExit().get(5, TimeUnit.SECONDS);

        JarRunner.Result st = jar.cli("db", "status", "--exp-dir", exp.toString());
        assertThat(st.exit()).as(st.toString()).isEqualTo(1);
        // The others say ok until their node timeout (5 s) has passed, fail after: either may be seen here.
        assertThat(st.outLines().get(0)).matches("orchestrator 'orchestrator' of experiment 'exp': DEGRADED "
                + "\\(cluster state (ok|fail); 5461 of 16384 slots not served \\(5462-10922: no reachable master\\), 2 "
                + "of 3 process\\(es\\) up\\)");
        assertThat(st.outLines()).contains("  problem: shard 1 (master, 127.0.0.1:" + (port + 1) + "): down: "
                + "Connection refused (no process listens on its port)");
        assertThat(st.outLines()).anyMatch(l -> l.startsWith("  problem: 5461 of 16384 slots not served "
                + "(5462-10922): no reachable master owns them"));

        JarRunner.Result stop = jar.cli("db", "stop", "--exp-dir", exp.toString());
        assertThat(stop.exit()).as(stop.toString()).isZero();
    }
}
