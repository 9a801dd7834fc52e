package io.smartsim.launch.local;

import io.smartsim.launch.Orchestrator;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code redis-cli --cluster check} as a user runs it, logged in as the README says (--user, REDISCLI_AUTH). */
final class RedisCli {
    private RedisCli() {
    }

    static String assertClusterCheckPasses(Orchestrator db, int port, String... expected) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("redis-cli", "--user", db.plan().auth().orElseThrow().user(),
                "--cluster", "check", "127.0.0.1:" + port).redirectErrorStream(true);
        pb.environment().put("REDISCLI_AUTH", db.plan().auth().orElseThrow().password());
        Process check = pb.start();
        String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(check.exitValue()).as(out).isZero();
        assertThat(out).contains("[OK] All nodes agree about slots configuration.", "[OK] All 16384 slots covered.");
        assertThat(out).contains(expected);
        return out;
    }
}
