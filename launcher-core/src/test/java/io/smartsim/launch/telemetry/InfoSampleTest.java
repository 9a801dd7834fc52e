package io.smartsim.launch.telemetry;

import io.smartsim.launch.planned.Access;
import io.smartsim.launch.status.ShardSample;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** INFO replies of a master with a replica and of a replica (redis-server 7.0, trimmed) read field by field. */
class InfoSampleTest {
    static final ShardTarget T = new ShardTarget("exp", "db", 2, "127.0.0.1", 6380, "n1", Access.NONE);
    static final Instant NOW = Instant.parse("2026-12-06T04:00:00Z");

    @Test
    void aMastersFigures() {
        String reply = "# Server\r\nredis_version:7.0.15\r\n# Clients\r\nconnected_clients:4\r\n# Memory\r\n"
                + "used_memory:1234567\r\nused_memory_peak:2345678\r\n# Persistence\r\nrdb_changes_since_last_save:17\r\n"
                + "rdb_last_save_time:1796529600\r\n# Stats\r\ninstantaneous_ops_per_sec:321\r\n"
                + "total_net_input_bytes:1000\r\ntotal_net_output_bytes:2000\r\nkeyspace_hits:40\r\nkeyspace_misses:2\r\n"
                + "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n"
                + "slave0:ip=127.0.0.1,port=6381,state=online,offset=9000,lag=0\r\n"
                + "slave1:ip=127.0.0.1,port=6382,state=online,offset=8800,lag=3\r\nmaster_repl_offset:9001\r\n"
                + "# Keyspace\r\ndb0:keys=99,expires=0,avg_ttl=0\r\n";
        ShardSample s = InfoSample.of(NOW, T, 7, reply);
        assertThat(s).isEqualTo(new ShardSample(NOW, "exp", "db", 2, "127.0.0.1:6380", "n1", true, null, 7, "master",
                1234567L, 2345678L, 99L, 4L, 321L, 40L, 2L, 1000L, 2000L, 9001L, 3L,
                Instant.ofEpochSecond(1796529600), 17L));
    }

    @Test
    void aReplicasOffsetAndLagAndAnEmptyKeyspace() {
        String reply = "role:slave\nmaster_host:127.0.0.1\nmaster_last_io_seconds_ago:1\nslave_repl_offset:8800\n"
                + "master_repl_offset:8800\nused_memory:10\n";
        ShardSample s = InfoSample.of(NOW, T, 1, reply);
        assertThat(s.role()).isEqualTo("slave");
        assertThat(s.replOffset()).isEqualTo(8800L);
        assertThat(s.replLagSeconds()).isEqualTo(1L);
        assertThat(s.keys()).isZero();
        assertThat(s.clients()).isNull(); // not in the reply: unknown, not zero
        assertThat(s.lastSave()).isNull();
    }

    @Test
    void aMasterWithoutReplicasHasNoLag() {
        assertThat(InfoSample.of(NOW, T, 1, "role:master\nmaster_repl_offset:0\n").replLagSeconds()).isNull();
    }

    @Test
    void anUnreachableShardKeepsItsLabelsAndReason() {
        ShardSample s = T.unreachable(NOW, 1000, "no answer within 1000 ms (hung or overloaded)");
        assertThat(s.reachable()).isFalse();
        assertThat(s.address()).isEqualTo("127.0.0.1:6380");
        assertThat(s.node()).isEqualTo("n1");
        assertThat(s.usedMemory()).isNull();
        assertThat(TelemetryFiles.line(s)).doesNotContain("\n").contains("\"reachable\":false", "\"usedMemory\":null");
    }
}
