package io.smartsim.launch.local;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.cluster.Ping;
import io.smartsim.launch.manifest.ManifestStore;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.planned.Access;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.exceptions.JedisException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Auth by default, against real redis-server processes: who gets in, where the secret lives, who can read it. */
class AuthIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;
    private final List<Integer> usedPorts = new ArrayList<>();

    private int ports(int count) {
        int base = leftovers.freeBase(count);
        usedPorts.addAll(Processes.range(base, count));
        return base;
    }

    private static String perms(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void aClientWithoutThePasswordIsRefusedAndOneWithItGetsInOnEveryShard() throws Exception {
        int base = ports(3);
        try (Experiment exp = Experiment.create("auth", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).port(base).build());
            exp.start(db);
            Credentials c = db.plan().auth().orElseThrow();
            assertThat(c.user()).isEqualTo("smartsim");

            for (int port = base; port < base + 3; port++) {
                try (Jedis anonymous = new Jedis("127.0.0.1", port)) {
                    assertThatThrownBy(anonymous::ping).isInstanceOf(JedisException.class)
                            .hasMessageContaining("NOAUTH");
                    assertThatThrownBy(() -> anonymous.auth("default", c.password()))
                            .isInstanceOf(JedisException.class).hasMessageContaining("WRONGPASS");
                    assertThatThrownBy(() -> anonymous.auth(c.user(), "not-the-password-at-all"))
                            .isInstanceOf(JedisException.class).hasMessageContaining("WRONGPASS");
                }
                try (Jedis j = new Jedis(new HostAndPort("127.0.0.1", port), DefaultJedisClientConfig.builder()
                        .user(c.user()).password(c.password()).build())) {
                    assertThat(j.ping()).isEqualTo("PONG");
                    assertThat(j.configGet("protected-mode")).containsEntry("protected-mode", "yes");
                }
                assertThat(Ping.pong("127.0.0.1", port, 1000)).as("PING without AUTH").isFalse();
                assertThat(Ping.pong("127.0.0.1", port, 1000, Access.of(Optional.of(c)))).isTrue();
                assertThat(Ping.pong("127.0.0.1", port, 1000, Access.of(Optional.of(new Credentials(c.user(),
                        "0000000000000000"))))).as("wrong password").isFalse();
                assertThat(Ping.answers("127.0.0.1", port, 1000)).isTrue();
            }
            try (JedisCluster jc = new JedisCluster(Set.of(new HostAndPort("127.0.0.1", base)),
                    DefaultJedisClientConfig.builder().user(c.user()).password(c.password()).build())) {
                for (int i = 0; i < 100; i++) {
                    jc.set("k" + i, "v" + i);
                }
                assertThat(jc.get("k99")).isEqualTo("v99");
            }

            // The secret: in the manifest and the configs, each readable by the owner only; data dirs owner-only.
            Path manifest = new ManifestStore(dir).file();
            assertThat(perms(manifest)).isEqualTo("rw-------");
            assertThat(Files.readString(manifest)).contains(c.password());
            assertThat(perms(db.plan().dir())).isEqualTo("rwx------");
            for (ShardPlan s : db.plan().shards()) {
                assertThat(perms(s.configPath())).isEqualTo("rw-------");
                assertThat(perms(s.workDir())).isEqualTo("rwx------");
                assertThat(Files.readString(s.logPath())).doesNotContain(c.password());
            }
            // Models get it beside SSDB.
            assertThat(exp.dbEnv()).containsEntry("SSDB_USER", "smartsim").containsEntry("SSDB_PASSWORD", c.password());

            // Status and stop log in from the manifest, as a later process would.
            Experiment later = Experiment.reconnect(dir);
            OrchestratorStatus st = later.status(db.id());
            assertThat(st.state()).as(st.toString()).isEqualTo("RUNNING");
            assertThat(st.toString()).doesNotContain(c.password());
            later.stop(later.orchestrator(db.id()));
            // SHUTDOWN was accepted (logged in): each shard shut down (Redis logs "User requested shutdown" for a
            // signal too) and not on the SIGTERM that follows the grace ("Received SIGTERM").
            for (ShardPlan s : db.plan().shards()) {
                assertThat(Files.readString(s.logPath())).as("log of shard %d", s.index())
                        .contains("User requested shutdown").doesNotContain("Received SIG");
            }
            assertThat(Processes.serversOn(usedPorts)).isEmpty();
        }
    }

    @Test
    void noAuthLetsAnyClientInAndSaysWhatItGivesUp() {
        int port = ports(1);
        List<String> progress = new ArrayList<>();
        try (Experiment exp = Experiment.create("open", dir, progress::add)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().port(port).auth(false).build());
            exp.start(db);
            assertThat(db.plan().auth()).isEmpty();
            try (Jedis anonymous = new Jedis("127.0.0.1", port)) {
                assertThat(anonymous.ping()).isEqualTo("PONG");
            }
            assertThat(exp.dbEnv()).doesNotContainKeys("SSDB_USER", "SSDB_PASSWORD");
            assertThat(progress).contains("warning: 'orchestrator' has no password (--no-auth): anyone who can reach "
                    + "its ports (any user or process on this machine) can read, change or delete its data");
        }
    }
}
