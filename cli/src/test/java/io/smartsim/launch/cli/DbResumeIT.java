package io.smartsim.launch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisCluster;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The shaded jar: {@code db start --checkpoint}, keys written, {@code db stop}, {@code db start --resume}, keys back. */
class DbResumeIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
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
        port = leftovers.shardPorts(TestServers.freeBlock(16000, 3), 3);
    }

    @AfterEach
    void cleanUp() throws Exception {
        jar.cli("db", "stop", "--exp-dir", exp.toString()); // exit 1 when it is already stopped: fine
        // Then the Leftovers check: processes by working dir, ports (bus and --ai too) on every address.
    }

    private JedisCluster client() throws IOException {
        JsonNode auth = Json.mapper().readTree(exp.resolve("manifest.json").toFile()).get("orchestrators").get(0)
                .get("plan").get("auth");
        JedisClientConfig login = DefaultJedisClientConfig.builder().user(auth.get("user").asText())
                .password(auth.get("password").asText()).build();
        return new JedisCluster(Set.of(new HostAndPort("127.0.0.1", port)), login);
    }

    @Test
    void stop_keeps_the_data_and_resume_brings_every_key_back() throws Exception {
        String[] layout = {"--exp-dir", exp.toString(), "--per-node", "3", "--port", Integer.toString(port),
                "--checkpoint", "every=1s"};
        JarRunner.Result start = jar.cli(concat(new String[] {"db", "start"}, layout));
        assertThat(start.exit()).as(start.toString()).isZero();
        try (JedisCluster jc = client()) {
            for (int i = 0; i < 2000; i++) {
                jc.set("k" + i, "v" + i);
            }
        }
        JarRunner.Result stop = jar.cli("db", "stop", "--exp-dir", exp.toString());
        assertThat(stop.exit()).as(stop.toString()).isZero();
        assertThat(stop.err()).contains("keeping the data of 'orchestrator' (--checkpoint every=1s): SHUTDOWN SAVE "
                + "to 3 shard(s)", "bring it back with: smartsim-launch db start --resume --exp-dir ");

        JarRunner.Result status = jar.cli("db", "status", "--exp-dir", exp.toString());
        assertThat(status.out()).as(status.toString()).contains("data (RDB): 3 of 3 shard(s) with data on record, ");

        JarRunner.Result again = jar.cli(concat(new String[] {"db", "start"}, layout));
        assertThat(again.exit()).as(again.toString()).isEqualTo(1);
        assertThat(again.err()).contains("has data from an earlier run", "'db start --resume'");

        JarRunner.Result resume = jar.cli(concat(new String[] {"db", "start", "--resume"}, layout));
        assertThat(resume.exit()).as(resume.toString()).isZero();
        assertThat(resume.err()).contains("resuming 'orchestrator' from the data of its previous run",
                "shard 2 (slots 10923-16383): resuming from " + exp.resolve("orchestrator/orchestrator_2/dump.rdb"));
        try (JedisCluster jc = client()) {
            List<Integer> missing = IntStream.range(0, 2000).filter(i -> !("v" + i).equals(jc.get("k" + i)))
                    .boxed().toList();
            assertThat(missing).as("keys not back").isEmpty();
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
