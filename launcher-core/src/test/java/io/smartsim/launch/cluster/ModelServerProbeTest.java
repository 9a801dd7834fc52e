package io.smartsim.launch.cluster;

import io.smartsim.launch.cluster.ModelServerProbe.Answer;
import io.smartsim.launch.spi.Launcher.Liveness;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The judging of {@link ModelServerProbe} on the module's reply texts, for the ones a real shard cannot be made to
 * give on purpose (a model server that accepts the connection and then closes it: {@code model server lost}). Each
 * text is the module's own (ai-module's smartsim_ai.c, {@code roundtrip}, {@code reply_failure}, {@code no_server},
 * {@code versions_done}). The replies a real shard gives are checked in it-ai's {@code ModelServerProbeIT}.
 */
class ModelServerProbeTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void theModulesErrorsNamingTheSocketAreGoneAndNoOtherErrorIs() {
        assertThat(ModelServerProbe.judgeError("ERR model server not connected (socket /e/db/ai/model-server-1.sock: "
                + "Connection refused)").liveness()).isEqualTo(Liveness.GONE);
        assertThat(ModelServerProbe.judgeError("ERR model server not connected (socket /tmp/smartsim-ai-0a1b2c3d4e5f/"
                + "model-server-0.sock: No such file or directory)").liveness()).isEqualTo(Liveness.GONE);
        assertThat(ModelServerProbe.judgeError("ERR model server lost (socket /e/db/ai/model-server-1.sock: "
                + "Connection reset by peer)").liveness()).isEqualTo(Liveness.GONE);
        // named, but not "cannot reach it": a broken answer, or a module without any socket
        assertThat(ModelServerProbe.judgeError("ERR model server: unexpected answer").liveness())
                .isEqualTo(Liveness.UNKNOWN);
        assertThat(ModelServerProbe.judgeError("ERR model server not connected (the module was loaded without "
                + "SOCKET <path>)").liveness()).isEqualTo(Liveness.UNKNOWN);
        // the shard, not its model server
        assertThat(ModelServerProbe.judgeError("NOAUTH Authentication required.").liveness())
                .isEqualTo(Liveness.UNKNOWN);
        assertThat(ModelServerProbe.judgeError("LOADING Redis is loading the dataset in memory").liveness())
                .isEqualTo(Liveness.UNKNOWN);
        assertThat(ModelServerProbe.judgeError("ERR unknown command 'AI.INFO', with args beginning with: ")
                .liveness()).isEqualTo(Liveness.UNKNOWN);
        // the text is kept as the shard said it
        assertThat(ModelServerProbe.judgeError("ERR model server lost (socket /s: Broken pipe)").said())
                .isEqualTo("ERR model server lost (socket /s: Broken pipe)");
    }

    @Test
    void theVersionArrayIsAliveAndNamesEachBackendAnythingElseIsUnknown() {
        Answer two = ModelServerProbe.judge(List.of(b("Version"), b("1.2.7"), b("Low Level API Version"), b("1"),
                b("RDB Encoding version"), b("1"), b("ONNX version"), b("1.19.2"), b("Torch version"), b("2.5.1")));
        assertThat(two).isEqualTo(new Answer(Liveness.ALIVE, "ONNX version 1.19.2, Torch version 2.5.1"));
        assertThat(ModelServerProbe.judge(List.of(b("key"), b("m"), b("type"), b("MODEL"))).liveness())
                .isEqualTo(Liveness.UNKNOWN);
        assertThat(ModelServerProbe.judge(List.of()).liveness()).isEqualTo(Liveness.UNKNOWN);
        assertThat(ModelServerProbe.judge(b("OK")).liveness()).isEqualTo(Liveness.UNKNOWN);
        assertThat(ModelServerProbe.judge(null)).isEqualTo(new Answer(Liveness.UNKNOWN, "AI.INFO answered nil, not "
                + "the module's versions"));
    }
}
