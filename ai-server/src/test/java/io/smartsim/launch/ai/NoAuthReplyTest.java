package io.smartsim.launch.ai;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The front's NOAUTH reply: Redis's own words first, the advice after, and short enough for a replica to read. */
class NoAuthReplyTest {
    @Test
    void theLineFitsTheReplicasReplyBufferAndStillSaysWhatToDo() {
        // A replica's redis-server reads its master's handshake replies with a 256-byte buffer (replication.c); the
        // wire line is '-' + text + CRLF.
        int wire = ("-" + FrontConnection.NOAUTH + "\r\n").getBytes(StandardCharsets.UTF_8).length;
        assertThat(wire).isLessThan(256);
        assertThat(FrontConnection.NOAUTH).startsWith("NOAUTH Authentication required.")
                .contains("--no-auth", "SmartRedis", "SSDB_PASSWORD");
    }
}
