package io.smartsim.launch.cluster;

import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.status.ShardHealth;
import io.smartsim.launch.planned.SlotRange;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ClusterNodeTest {
    // Redis 7.0 writes an optional ",hostname" after the bus port; Redis 6 / KeyDB 6.3 do not.
    private static final String REDIS7 = """
            e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:6780@16780, myself,master - 0 1700000000000 1 connected 0-5461
            67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:6781@16781, master - 0 1700000000123 2 connected 5462-10922
            292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:6782@16782, master - 0 1700000000456 3 connected 10923-16383
            """;
    private static final String KEYDB6 = """
            e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:6780@16780 master - 0 1700000000000 1 connected 0-5461
            67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:6781@16781 myself,master - 0 0 2 connected 5462-10922
            292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:6782@16782 master - 0 1700000000456 3 connected 10923-16383
            """;
    private static final Map<String, List<SlotRange>> PLANNED = Map.of(
            "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca", List.of(new SlotRange(0, 5461)),
            "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1", List.of(new SlotRange(5462, 10922)),
            "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f", List.of(new SlotRange(10923, 16383)));

    @Test
    void parsesBothDialects() {
        ClusterNode r7 = ClusterNode.parseAll(REDIS7).get(0);
        assertThat(r7.host()).isEqualTo("127.0.0.1");
        assertThat(r7.port()).isEqualTo(6780);
        assertThat(r7.myself()).isTrue();
        assertThat(r7.master()).isTrue();
        assertThat(r7.configEpoch()).isEqualTo(1);
        assertThat(r7.slots()).containsExactly(new SlotRange(0, 5461));
        ClusterNode k = ClusterNode.parseAll(KEYDB6).get(1);
        assertThat(k.myself()).isTrue();
        assertThat(k.port()).isEqualTo(6781);
        assertThat(k.slots()).containsExactly(new SlotRange(5462, 10922));
    }

    @Test
    void singleSlotsAndMigratingSlotsAreHandled() {
        ClusterNode n = ClusterNode.parse("abc 10.0.0.1:7000@17000 master - 0 0 4 connected 0-10 12 [13->-def]");
        assertThat(n.slots()).containsExactly(new SlotRange(0, 10), new SlotRange(12, 12));
    }

    @Test
    void agreementNeedsEveryNodeEverySlotAndNoTroubledFlags() {
        assertThat(ClusterFormer.disagreement(ClusterNode.parseAll(REDIS7), PLANNED)).isNull();
        assertThat(ClusterFormer.disagreement(ClusterNode.parseAll(KEYDB6), PLANNED)).isNull();
        String twoKnown = REDIS7.lines().limit(2).reduce("", (a, b) -> a + b + "\n");
        assertThat(ClusterFormer.disagreement(ClusterNode.parseAll(twoKnown), PLANNED)).isEqualTo("knows 2 of 3 nodes");
        String handshake = REDIS7.replace(", master - 0 1700000000456", ", handshake - 0 1700000000456");
        assertThat(ClusterFormer.disagreement(ClusterNode.parseAll(handshake), PLANNED)).contains("handshake");
        String wrongSlots = REDIS7.replace("connected 10923-16383", "connected 10923-16000");
        assertThat(ClusterFormer.disagreement(ClusterNode.parseAll(wrongSlots), PLANNED))
                .contains("with slots [10923-16000], planned [10923-16383]");
    }

    @Test
    void infoRepliesParseIncludingKeyspace() {
        Map<String, String> info = InfoParser.parse("# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\n"
                + "db0:keys=3334,expires=0,avg_ttl=0\r\n");
        assertThat(info).containsEntry("redis_version", "7.0.15");
        assertThat(InfoParser.keys(info)).isEqualTo(3334);
        assertThat(InfoParser.keys(Map.of())).isZero();
    }

    @Test
    void healthJudgesMissingSlotsAndUnreachableShards() {
        ShardHealth ok0 = new ShardHealth(0, "a:1", true, "master", List.of(new SlotRange(0, 8191)), 0, 0, 1,
                java.util.Optional.of("ok"), java.util.Optional.empty());
        ShardHealth down = ShardHealth.unreachable(1, "a:2", "down: Connection refused");
        HealthReport r = HealthChecker.judge(true, List.of(ok0, down));
        assertThat(r.healthy()).isFalse();
        // The unreachable master's slots count as lost: nobody serves them now.
        assertThat(r.problems()).containsExactly("shard 1 (a:2): down: Connection refused",
                "8192 of 16384 slots not served (8192-16383): no reachable master owns them");
        assertThat(r.serving()).isFalse();
        assertThat(r.summary()).isEqualTo("8192 of 16384 slots not served (8192-16383: no reachable master), 1 of 2 "
                + "process(es) up");
        HealthReport half = HealthChecker.judge(true, List.of(ok0));
        assertThat(half.problems()).containsExactly("8192 of 16384 slots not served (8192-16383): no reachable master "
                + "owns them");
    }

    @Test
    void aPromotedReplicaServesTheDeadMastersSlotsAndAReplicaWithItsLinkDownIsAProblem() {
        java.util.Optional<String> ok = java.util.Optional.of("ok");
        ShardHealth m0 = new ShardHealth(0, "a:1", true, "master", List.of(new SlotRange(0, 8191)), 0, 0, 1, ok,
                java.util.Optional.empty());
        ShardHealth dead = ShardHealth.unreachable(1, "a:2", "down: Connection refused",
                java.util.Optional.of("master"));
        ShardHealth promoted = new ShardHealth(3, "a:4", true, "master", List.of(new SlotRange(8192, 16383)), 0, 0, 1,
                ok, java.util.Optional.empty(), java.util.Optional.empty(), java.util.Optional.empty(),
                java.util.Optional.of("replica of 1"));
        ShardHealth replica = new ShardHealth(2, "a:3", true, "slave", List.of(), 0, 0, 1, ok,
                java.util.Optional.empty(), java.util.Optional.of("a:1"), java.util.Optional.of("up"),
                java.util.Optional.of("replica of 0"));
        HealthReport r = HealthChecker.judge(true, List.of(m0, dead, replica, promoted));
        assertThat(r.serving()).isTrue();
        assertThat(r.healthy()).isFalse();
        assertThat(r.problems()).containsExactly("shard 1 (master, a:2): down: Connection refused");
        assertThat(r.summary()).isEqualTo("all 16384 slots served, 3 of 4 process(es) up");
        ShardHealth linkDown = new ShardHealth(2, "a:3", true, "slave", List.of(), 0, 0, 1, ok,
                java.util.Optional.of("replication link to its master a:1 is down"), java.util.Optional.of("a:1"),
                java.util.Optional.of("down"), java.util.Optional.of("replica of 0"));
        assertThat(HealthChecker.judge(true, List.of(m0, linkDown, promoted)).problems())
                .containsExactly("shard 2 (replica of 0, a:3): replication link to its master a:1 is down");
    }

    @Test
    void replicasMustBeSeenAsReplicasOfTheirPlannedMaster() {
        String nodes = "m1 127.0.0.1:6780@16780 myself,master - 0 0 1 connected 0-16383\n"
                + "r1 127.0.0.1:6781@16781 master - 0 0 2 connected\n";
        java.util.Map<String, List<SlotRange>> slots = java.util.Map.of("m1", List.of(new SlotRange(0, 16383)),
                "r1", List.of());
        assertThat(ClusterFormer.disagreement(ClusterNode.parseAll(nodes), slots, java.util.Map.of("r1", "m1")))
                .isEqualTo("sees node r1 as a master, planned a replica of m1");
        String attached = nodes.replace("r1 127.0.0.1:6781@16781 master -", "r1 127.0.0.1:6781@16781 slave m1");
        assertThat(ClusterFormer.disagreement(ClusterNode.parseAll(attached), slots, java.util.Map.of("r1", "m1")))
                .isNull();
    }
}
