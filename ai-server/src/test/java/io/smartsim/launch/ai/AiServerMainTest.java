package io.smartsim.launch.ai;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AiServerMainTest {
    @Test
    void theFrontListensWhereItsServerIsToldToBindWhenGivenNoBind() {
        // As the Slurm wrapper runs it: the node's addresses are appended to the server's argv.
        AiServerMain.Options o = AiServerMain.parse(new String[] {"--port", "6780", "--redis-port", "26780",
                "--cluster", "--server-argv", "redis-server", "/w/redis.conf", "--bind", "10.0.0.5", "10.1.0.5",
                "--cluster-announce-ip", "10.0.0.5"});
        assertThat(o.bind()).isEqualTo("10.0.0.5,10.1.0.5");
        assertThat(o.redis()).isEqualTo("10.0.0.5:26780");
        assertThat(o.cluster()).isTrue();
        assertThat(o.auth()).isFalse();
        assertThat(o.serverArgv()).containsExactly("redis-server", "/w/redis.conf", "--bind", "10.0.0.5", "10.1.0.5",
                "--cluster-announce-ip", "10.0.0.5");
    }

    @Test
    void anExplicitBindWinsAndLoopbackIsTheDefault() {
        assertThat(AiServerMain.parse(new String[] {"--bind", "127.0.0.1", "--redis-port", "1", "--auth",
                "--backends", "onnx, torch"})).satisfies(o -> {
                    assertThat(o.redis()).isEqualTo("127.0.0.1:1");
                    assertThat(o.auth()).isTrue();
                    assertThat(o.backends()).containsExactly("onnx", "torch");
                    assertThat(o.serverArgv()).isEmpty();
                });
        assertThat(AiServerMain.parse(new String[] {"--redis-port", "2"}).bind()).isEqualTo("127.0.0.1");
        assertThat(AiServerMain.serverBinds(List.of("x", "--bind"))).isEmpty();
    }

    @Test
    void badOptionsAreNamed() {
        assertThatThrownBy(() -> AiServerMain.parse(new String[] {"--port", "x", "--redis-port", "1"}))
                .hasMessageStartingWith("--port 'x' is not a whole number");
        assertThatThrownBy(() -> AiServerMain.parse(new String[] {"--port", "1"}))
                .hasMessageStartingWith("--redis host:port or --redis-port R is required");
        assertThatThrownBy(() -> AiServerMain.parse(new String[] {"--nope"})).hasMessageStartingWith("unknown option --nope");
    }
}
