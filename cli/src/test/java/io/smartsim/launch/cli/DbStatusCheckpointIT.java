package io.smartsim.launch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.cluster.InfoParser;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisCluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code db status} of a running orchestrator with {@code --checkpoint every=2s} shows the data on disk now and each
 * shard's last save from {@code INFO persistence} (issue 14, point 5; before, it said "0 of 3 shard(s) with data on
 * record, 0 B" until {@code db stop}). Compared with what the shards themselves say and with the files' sizes.
 */
class DbStatusCheckpointIT {
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
        port = leftovers.shardPorts(TestServers.freeBlock(17000, 3), 3);
    }

    @AfterEach
    void cleanUp() throws Exception {
        jar.cli("db", "stop", "--exp-dir", exp.toString()); // exit 1 when it is already stopped: fine
        // Then the Leftovers check: processes by working dir, ports (bus and --ai too) on every address.
    }

    @Test
    void statusOfARunningOrchestratorShowsTheDataOnDiskAndTheLastSave() throws Exception {
        JarRunner.Result start = jar.cli("db", "start", "--exp-dir", exp.toString(), "--per-node", "3", "--port",
                Integer.toString(port), "--checkpoint", "every=2s");
        assertThat(start.exit()).as(start.toString()).isZero();
        JsonNode auth = Json.mapper().readTree(exp.resolve("manifest.json").toFile()).get("orchestrators").get(0)
                .get("plan").get("auth");
        JedisClientConfig login = DefaultJedisClientConfig.builder().user(auth.get("user").asText())
                .password(auth.get("password").asText()).build();
        try (JedisCluster jc = new JedisCluster(Set.of(new HostAndPort("127.0.0.1", port)), login)) {
            for (int i = 0; i < 3000; i++) {
                jc.set("k" + i, "v" + i);
            }
        }
        // Every shard has snapshotted all its keys (save 2 1): nothing changes on disk after this.
        List<Map<String, String>> info = new ArrayList<>();
        long deadline = System.nanoTime() + 60_000_000_000L;
        for (int i = 0; i < 3; i++) {
            try (Jedis j = new Jedis(new HostAndPort("127.0.0.1", port + i), login)) {
                Map<String, String> p = InfoParser.parse(j.info("persistence"));
                while (!(Long.parseLong(p.get("rdb_saves")) > 0 && "0".equals(p.get("rdb_changes_since_last_save"))
                        && "0".equals(p.get("rdb_bgsave_in_progress")))) {
                    assertThat(System.nanoTime()).as("shard %d saved within 60 s: %s", i, p).isLessThan(deadline);
                    Thread.sleep(200);
                    p = InfoParser.parse(j.info("persistence"));
                }
                info.add(p);
            }
        }

        JarRunner.Result json = jar.cli("db", "status", "--exp-dir", exp.toString(), "--json");
        assertThat(json.exit()).as(json.toString()).isZero();
        JsonNode now = Json.mapper().readTree(json.out()).get("orchestrators").get(0).get("dataNow");
        assertThat(now).as(json.out()).hasSize(3);
        long total = 0;
        List<String> rows = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Path file = exp.resolve("orchestrator/orchestrator_" + i + "/dump.rdb").toAbsolutePath();
            long size = Files.size(file);
            total += size;
            Instant lastSave = Instant.ofEpochSecond(Long.parseLong(info.get(i).get("rdb_last_save_time")));
            JsonNode d = now.get(i);
            assertThat(d.get("index").asInt()).isEqualTo(i);
            assertThat(d.get("kind").asText()).isEqualTo("RDB");
            assertThat(d.get("path").asText()).isEqualTo(file.toString());
            assertThat(d.get("bytes").asLong()).as("shard %d on disk", i).isEqualTo(size).isPositive();
            assertThat(Instant.parse(d.get("lastSave").asText())).as("shard %d last save", i).isEqualTo(lastSave);
            assertThat(d.get("status").asText()).isEqualTo("ok");
            assertThat(d.get("changesSinceSave").asLong()).isZero();
            assertThat(d.get("info").get("rdb_last_bgsave_status").asText()).isEqualTo("ok");
            rows.add(i + " orchestrator_" + i + "/dump.rdb " + Text.bytes(size) + " "
                    + Files.getLastModifiedTime(file).toInstant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                    + " " + lastSave + " ok 0");
        }

        JarRunner.Result human = jar.cli("db", "status", "--exp-dir", exp.toString());
        assertThat(human.exit()).as(human.toString()).isZero();
        assertThat(human.out()).contains("  data (RDB) now: 3 of 3 shard(s) with data on disk, "
                + Text.bytes(total) + "; under " + exp.toAbsolutePath().resolve("orchestrator") + "\n");
        List<String> table = human.out().lines().dropWhile(l -> !l.contains(" now: 3 of 3")).skip(1).limit(4)
                .map(l -> l.strip().replaceAll("\\s{2,}", " ")).toList();
        assertThat(table).containsExactly("SHARD FILE ON DISK WRITTEN LAST SAVE STATUS UNSAVED", rows.get(0),
                rows.get(1), rows.get(2));
    }
}
