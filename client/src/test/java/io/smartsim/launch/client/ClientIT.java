package io.smartsim.launch.client;

import io.smartsim.launch.ai.AiServer;
import io.smartsim.launch.ai.AiServerConfig;
import io.smartsim.launch.ai.Backends;
import io.smartsim.launch.ai.testing.OnnxModels;
import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.testing.RedisServer;
import io.smartsim.launch.ai.testing.RespClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Java client against the front (with the ONNX backend) before a real redis-server. */
class ClientIT {
    static RedisServer redis;
    static AiServer front;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        front = new AiServer(AiServerConfig.of("127.0.0.1", 0, redis.address()), Backends.discover()).start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (front != null) {
            front.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    Client client() {
        return Client.fromEnvironment(Map.of("SSDB", "127.0.0.1:" + front.port(), "SR_DB_TYPE", "Standalone"));
    }

    @Test
    void tensorsOfEveryJavaTypeRoundTrip() {
        try (Client c = client()) {
            TensorData f = TensorData.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
            TensorData d = TensorData.of(new double[] {1.5, -2}, 2);
            TensorData i = TensorData.of(new int[] {7, 8, 9, 10}, 2, 1, 2);
            TensorData b = TensorData.of(new byte[] {-1, 2}, 2);
            c.putTensor("f", f);
            c.putTensor("d", d);
            c.putTensor("i", i);
            c.putTensor("b", b);
            assertThat(c.getTensor("f")).isEqualTo(f);
            assertThat(c.getTensor("f").asFloats()).containsExactly(1, 2, 3, 4, 5, 6);
            assertThat(c.getTensor("d").asDoubles()).containsExactly(1.5, -2);
            assertThat(c.getTensor("i").shape()).containsExactly(2, 1, 2);
            assertThat(c.getTensor("b")).isEqualTo(b);
            assertThat(c.tensorExists("f")).isTrue();
            c.deleteTensor("f");
            assertThat(c.pollKey("f", Duration.ofMillis(5), 3)).isFalse();
            assertThatThrownBy(() -> c.getTensor("f")).isInstanceOf(ClientException.class)
                    .hasMessageContaining("ERR tensor key is empty or in a different shard");
        }
    }

    @Test
    void setRunDeleteModel() {
        byte[] model = OnnxModels.linear(2, 1, new float[] {2, -1}, new float[] {0.5f});
        try (Client c = client()) {
            c.setModel("lin", model, "onnx", "cpu");
            assertThat(c.modelExists("lin")).isTrue();
            assertThat(c.getModel("lin")).isEqualTo(model);
            c.putTensor("x", TensorData.of(new float[] {3, 4}, 1, 2));
            c.runModel("lin", List.of("x"), List.of("y"));
            assertThat(c.getTensor("y").asFloats()).containsExactly(2 * 3 - 4 + 0.5f);
            c.deleteModel("lin");
            assertThat(c.modelExists("lin")).isFalse();
        }
    }

    /** The auth trade-off of docs/ai.md: with a password, SmartRedis's AUTH-less commands are refused. */
    @Test
    void authenticatesWithSsdbUserAndPasswordWhereSmartRedisCannot() throws Exception {
        String pw = "0123456789abcdef0123";
        try (RedisServer locked = RedisServer.start("--requirepass", pw);
             AiServer lockedFront = new AiServer(AiServerConfig.of("127.0.0.1", 0, locked.address()),
                     Backends.discover()).start()) {
            String ssdb = "127.0.0.1:" + lockedFront.port();
            try (RespClient smartRedisLike = RespClient.connect(lockedFront.port())) {
                Object r = smartRedisLike.call("AI.TENSORSET", "t", "FLOAT", "1", "BLOB", new byte[4]);
                assertThat(((RespError) r).text()).startsWith("NOAUTH");
            }
            try (Client c = Client.fromEnvironment(Map.of("SSDB", ssdb, "SR_DB_TYPE", "Standalone",
                    "SSDB_USER", "default", "SSDB_PASSWORD", pw))) {
                c.putTensor("t", TensorData.of(new float[] {1}, 1));
                assertThat(c.getTensor("t").asFloats()).containsExactly(1);
            }
        }
    }

    @Test
    void environmentIsChecked() {
        assertThatThrownBy(() -> Client.fromEnvironment(Map.of())).hasMessageContaining("SSDB is not set");
        // Clustered is SmartRedis's default: the client then reads CLUSTER SLOTS from the address given.
        assertThatThrownBy(() -> Client.fromEnvironment(Map.of("SSDB", "127.0.0.1:1")))
                .hasMessageStartingWith("cannot reach the database at 127.0.0.1:1");
        assertThatThrownBy(() -> Client.fromEnvironment(Map.of("SSDB", "127.0.0.1:1", "SR_DB_TYPE", "clustered")))
                .hasMessageStartingWith("SR_DB_TYPE=clustered is neither Clustered nor Standalone");
    }
}
