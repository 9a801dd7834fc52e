package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.ai.module.TensorWireIT.cmd;
import static io.smartsim.launch.ai.module.TensorWireIT.show;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the module stores survives as Redis data does: a replica (which loads the module too: AI.TENSORSET is
 * replicated verbatim) has the tensors after {@code WAIT}, and a server restarted on its AOF serves them again, also
 * after an AOF rewrite, which writes the plain strings (a server without the module then reads the same values).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ModulePersistenceIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;

    /** A few tensors: SmartRedis's BLOB form, 1 MiB, VALUES, zeros. */
    static List<byte[][]> puts() {
        byte[] big = new byte[1 << 20];
        new Random(6).nextBytes(big);
        return List.of(cmd("AI.TENSORSET", "small", "FLOAT", 2, 2, "BLOB", new byte[16]),
                cmd("AI.TENSORSET", "big", "FLOAT", 256, 1024, "BLOB", big),
                cmd("AI.TENSORSET", "values", "INT32", 3, "VALUES", 1, -2, 3),
                cmd("AI.TENSORSET", "zeros", "UINT16", 2, 2));
    }

    static final List<String> KEYS = List.of("small", "big", "values", "zeros");

    static List<String> read(int port, String... format) throws Exception {
        List<String> out = new ArrayList<>();
        try (RawReplies c = new RawReplies(port)) {
            for (String k : KEYS) {
                List<Object> command = new ArrayList<>(List.of(format));
                command.add(1, k);
                byte[] reply = c.call(cmd(command.toArray()));
                // large replies by their digest, so that a failure message stays readable
                out.add(k + ": " + (reply.length <= 4096 ? show(reply) : show(Arrays.copyOf(reply, 80)) + "... "
                        + reply.length + " bytes, sha-256 " + HexFormat.of().formatHex(
                                MessageDigest.getInstance("SHA-256").digest(reply))));
            }
        }
        return out;
    }

    @Test
    void replicasHaveTheTensorsAfterWait() throws Exception {
        int base = leftovers.freeBase(3);
        try (ModuleRedis master = ModuleRedis.withModule(dir.resolve("master"), base);
             ModuleRedis replica = ModuleRedis.withModule(dir.resolve("replica"), base + 1,
                     "--replicaof", "127.0.0.1", Integer.toString(base));
             ModuleRedis replica2 = ModuleRedis.withModule(dir.resolve("replica2"), base + 2,
                     "--replicaof", "127.0.0.1", Integer.toString(base))) {
            Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
            try (RespClient c = master.client()) {
                // online: past the initial sync, so the tensors below can only reach them by replication
                while (new String((byte[]) c.call("INFO", "replication"), StandardCharsets.UTF_8)
                        .split("state=online", -1).length != 3) {
                    assertThat(Instant.now()).as("both replicas online within 60 s").isBefore(deadline);
                    Thread.sleep(50);
                }
            }
            try (RawReplies c = new RawReplies(master.port())) {
                for (byte[] reply : c.pipeline(puts())) {
                    assertThat(show(reply)).isEqualTo("+OK\\x0d\\x0a");
                }
                assertThat(show(c.call(cmd("WAIT", 2, 30000)))).isEqualTo(":2\\x0d\\x0a");
            }
            for (ModuleRedis r : List.of(replica, replica2)) {
                assertThat(read(r.port(), "AI.TENSORGET", "META", "BLOB"))
                        .isEqualTo(read(master.port(), "AI.TENSORGET", "META", "BLOB"))
                        .allSatisfy(v -> assertThat(v).contains("$5\\x0d\\x0adtype"));
                assertThat(read(r.port(), "GET")).isEqualTo(read(master.port(), "GET"));
            }
        }
    }

    @Test
    void anAofRestartKeepsTheTensors() throws Exception {
        int port = leftovers.freeBase(1);
        Path data = dir.resolve("aof");
        List<String> before;
        List<String> storedBefore;
        try (ModuleRedis s = ModuleRedis.withModule(data, port, "--appendonly", "yes")) {
            try (RawReplies c = new RawReplies(s.port())) {
                for (byte[] reply : c.pipeline(puts())) {
                    assertThat(show(reply)).isEqualTo("+OK\\x0d\\x0a");
                }
            }
            before = read(s.port(), "AI.TENSORGET", "META", "BLOB");
            storedBefore = read(s.port(), "GET");
        } // SIGTERM: Redis flushes its AOF and exits
        try (ModuleRedis s = ModuleRedis.withModule(data, port, "--appendonly", "yes")) {
            assertThat(read(s.port(), "AI.TENSORGET", "META", "BLOB")).isEqualTo(before)
                    .allSatisfy(v -> assertThat(v).contains("$5\\x0d\\x0adtype"));
        }
        // After a rewrite the AOF holds the plain strings: a server without the module reads the same values.
        try (ModuleRedis s = ModuleRedis.withModule(data, port, "--appendonly", "yes");
             RespClient c = s.client()) {
            assertThat(c.call("BGREWRITEAOF")).asString().isNotNull();
            Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
            while (!new String((byte[]) c.call("INFO", "persistence"), StandardCharsets.UTF_8)
                    .matches("(?s).*aof_rewrite_in_progress:0.*aof_rewrite_scheduled:0.*aof_last_bgrewrite_status:ok.*")) {
                assertThat(Instant.now()).as("AOF rewrite done within 60 s").isBefore(deadline);
                Thread.sleep(50);
            }
        }
        try (ModuleRedis s = ModuleRedis.plain(data, port, "--appendonly", "yes")) {
            assertThat(read(s.port(), "GET")).isEqualTo(storedBefore);
        }
    }
}
