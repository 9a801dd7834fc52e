package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.ai.module.TensorWireIT.floats;
import static io.smartsim.launch.ai.module.ModelServingIT.maskDuration;
import static io.smartsim.launch.ai.module.TensorWireIT.b;
import static io.smartsim.launch.ai.module.TensorWireIT.cmd;
import static io.smartsim.launch.ai.module.TensorWireIT.show;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scripts through the module: a real redis-server with smartsim-ai ({@code BACKENDS TORCH}), the real model server
 * process with the TORCH backend (libtorch compiles the TorchScript source). SmartRedis 0.6.1's script calls
 * (set_script / set_function, run_script, get_script, delete_script; shared/notes/redisai.md), RedisAI 1.2.7's
 * AI.SCRIPTSTORE / AI.SCRIPTEXECUTE, and every error text: replies, stored outputs and the stored script hash equal,
 * byte for byte, what the Java front with the same backend answered (recorded from it before its removal in issue 16:
 * {@link Golden}).
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ScriptServingIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest();

    static final String SCRIPT = String.join("\n",
            "import torch",
            "",
            "def add_and_scale(a, b):",
            "    return helper(a + b)",
            "",
            "def helper(x):",
            "    return x * 0.5",
            "",
            "def split(x):",
            "    return x[0], x[1]",
            "",
            "def cat_all(first, rest: List[Tensor]):",
            "    return torch.cat([first] + rest, 0)",
            "",
            "def execute_sum(tensors: List[Tensor], keys: List[str], args: List[str]):",
            "    s = tensors[0]",
            "    for t in tensors[1:]:",
            "        s = s + t",
            "    return s * int(args[0]) + len(keys)",
            "",
            "def fails(x):",
            "    return x.view(7, 7)",
            "");
    /** What SmartRedis's set_function sends for a function defined inside another (issue 16). */
    static final String INDENTED = "    def f(x):\n        return x + 1\n";

    @TempDir
    Path dir;

    static List<List<byte[][]>> sequence() {
        List<List<byte[][]>> calls = new ArrayList<>();
        // set_script, set_function (indented), put_tensor, run_script, unpack_tensor
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSET", "s", "CPU", "SOURCE", SCRIPT)));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSET", "fn", "CPU", "TAG", "t1", "SOURCE", INDENTED)));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", "a", "FLOAT", 2, 2, "BLOB", floats(1, 2, 3, 4)),
                cmd("AI.TENSORSET", "b", "FLOAT", 2, 2, "BLOB", floats(10, 20, -3, 0.5f))));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTRUN", "s", "add_and_scale", "INPUTS", "a", "b", "OUTPUTS", "c"),
                cmd("AI.TENSORGET", "c", "META", "BLOB")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTRUN", "fn", "f", "INPUTS", "a", "OUTPUTS", "f1", "TIMEOUT", 60000),
                cmd("AI.TENSORGET", "f1", "VALUES")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTRUN", "s", "split", "INPUTS", "a", "OUTPUTS", "r0", "r1"),
                cmd("AI.TENSORGET", "r0", "BLOB"), cmd("AI.TENSORGET", "r1", "BLOB")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTRUN", "s", "cat_all", "INPUTS", "a", "$", "b", "a", "OUTPUTS", "cat"),
                cmd("AI.TENSORGET", "cat", "META", "BLOB")));
        // get_script, the metadata forms
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTGET", "s", "SOURCE")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTGET", "fn", "META")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTGET", "fn")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTGET", "fn", "META", "SOURCE")));
        // AI.SCRIPTSTORE / AI.SCRIPTEXECUTE (RedisAI 1.2.7)
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSTORE", "s2", "CPU", "TAG", "v2", "ENTRY_POINTS", 1, "execute_sum",
                "SOURCE", SCRIPT)));
        calls.add(List.<byte[][]>of(cmd("AI.TENSORSET", "e.a", "FLOAT", 3, "BLOB", floats(1, 2, 3)),
                cmd("AI.TENSORSET", "e.b", "FLOAT", 3, "BLOB", floats(0.5f, 0, -1))));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTEXECUTE", "s2", "execute_sum", "KEYS", 2, "e.a", "e.b", "INPUTS", 2,
                "e.a", "e.b", "ARGS", 1, 3, "OUTPUTS", 1, "e.o", "TIMEOUT", 60000), cmd("AI.TENSORGET", "e.o", "BLOB")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTEXECUTE", "s2", "execute_sum", "INPUTS", 1, "e.a", "ARGS", 1, 2,
                "OUTPUTS", 1, "e.o2"), cmd("AI.TENSORGET", "e.o2", "BLOB")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTGET", "s2", "META", "SOURCE")));
        // bad input: every text must be the front's
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSET", "bad", "CPU", "SOURCE", "def f(a):\n    return a +\n")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSET", "bad", "CPU", "SOURCE", "x = 1\n")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSET", "bad", "CPU", "SOURCE", "    def f(x):\n        return x\ndef g(y):\n    return y\n")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSET", "bad", "CPU", "SOURCE")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSET", "bad", "CPU", "TAG", "t")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSET", "bad", "CPU", "TAG", "t", "SRC", "def f(a): return a")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSET", "bad", "CPX", "SOURCE", SCRIPT)));
        calls.add(List.<byte[][]>of(cmd("EXISTS", "bad")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSTORE", "s3", "CPU", "ENTRY_POINTS", 1, "nope", "SOURCE", SCRIPT)));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSTORE", "s3", "CPU", "ENTRY_POINTS", 0, "SOURCE", SCRIPT)));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSTORE", "s3", "CPU", "TAG", "x", "SOURCE", SCRIPT, "y")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSTORE", "s3", "CPU", "ENTRY_POINTS", 1, "f", "SRC", SCRIPT)));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTSTORE", "s3", "CPU")));
        calls.add(List.<byte[][]>of(cmd("EXISTS", "s3")));
        calls.add(List.<byte[][]>of(cmd("SET", "plain", "v"), cmd("AI.SCRIPTSET", "plain", "CPU", "SOURCE", SCRIPT)));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTGET", "plain"), cmd("AI.SCRIPTGET", "nosuch", "SOURCE"),
                cmd("AI.SCRIPTGET", "s", "NEITHER"), cmd("AI.SCRIPTGET", "s", "META", "SOURCE", "X")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTRUN", "s", "nope", "INPUTS", "a", "OUTPUTS", "o")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTRUN", "s", "INPUTS", "a", "OUTPUTS", "o")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTRUN", "s", "add_and_scale", "INPUTS", "a", "OUTPUTS", "o")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTRUN", "s", "helper", "INPUTS", "no.such", "OUTPUTS", "o")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTRUN", "s", "helper", "INPUTS", "plain", "OUTPUTS", "o")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTRUN", "s", "split", "INPUTS", "a", "OUTPUTS", "o")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTRUN", "s", "fails", "INPUTS", "a", "OUTPUTS", "o")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTRUN", "s", "helper", "a")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTRUN", "s", "helper", "INPUTS", "a", "INPUTS", "b", "OUTPUTS", "o"),
                cmd("AI.SCRIPTRUN", "s", "helper", "INPUTS", "a", "OUTPUTS", "o", "INPUTS", "b"),
                cmd("AI.SCRIPTRUN", "s", "helper", "INPUTS", "a", "OUTPUTS", "o", "OUTPUTS", "p"),
                cmd("AI.SCRIPTRUN", "s", "helper", "$", "INPUTS", "a", "OUTPUTS", "o"),
                cmd("AI.SCRIPTRUN", "s", "cat_all", "INPUTS", "a", "$", "b", "$", "a", "OUTPUTS", "o"),
                cmd("AI.SCRIPTRUN", "s", "helper", "INPUTS", "a", "OUTPUTS", "o", "TIMEOUT"),
                cmd("AI.SCRIPTRUN", "s", "helper", "INPUTS", "a", "OUTPUTS", "o", "TIMEOUT", 0),
                cmd("AI.SCRIPTRUN", "s", "helper", "INPUTS", "a", "OUTPUTS", "o", "TIMEOUT", 5, "TIMEOUT", 5),
                cmd("AI.SCRIPTRUN", "s"), cmd("AI.SCRIPTRUN", "nosuch", "f", "INPUTS", "a", "OUTPUTS", "o"),
                cmd("AI.SCRIPTRUN", "plain", "f", "INPUTS", "a", "OUTPUTS", "o")));
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTEXECUTE", "s2", "helper", "INPUTS", 1, "e.a", "OUTPUTS", 1, "e.o3"),
                cmd("AI.SCRIPTEXECUTE", "s2", "execute_sum", "INPUTS", 1, "e.a", "FOO", 1),
                cmd("AI.SCRIPTEXECUTE", "s2", "execute_sum", "INPUTS", 1, "e.a", "INPUTS", 1, "e.b"),
                cmd("AI.SCRIPTEXECUTE", "s2", "execute_sum", "INPUTS", "x", "e.a"),
                cmd("AI.SCRIPTEXECUTE", "s2", "execute_sum", "ARGS"),
                cmd("AI.SCRIPTEXECUTE", "s2", "execute_sum", "INPUTS", 3, "e.a"),
                cmd("AI.SCRIPTEXECUTE", "s2", "execute_sum", "KEYS", -1, "e.a"),
                cmd("AI.SCRIPTEXECUTE", "s2", "execute_sum", "INPUTS", 1, "e.a", "TIMEOUT", 5, "ARGS", 1, 2),
                cmd("AI.SCRIPTEXECUTE", "s2", "execute_sum", "INPUTS", 1, "e.a", "TIMEOUT", -5),
                cmd("AI.SCRIPTEXECUTE", "s2", "execute_sum", "INPUTS", 1, "no.such", "ARGS", 1, 2, "OUTPUTS", 1, "o"),
                cmd("AI.SCRIPTEXECUTE", "s2", "TIMEOUT", 5), cmd("AI.SCRIPTEXECUTE", "s2")));
        // delete_script
        calls.add(List.<byte[][]>of(cmd("AI.SCRIPTDEL", "fn"), cmd("EXISTS", "fn"), cmd("AI.SCRIPTDEL", "fn"),
                cmd("AI.SCRIPTDEL", "plain"), cmd("AI.SCRIPTDEL", "s", "x"),
                cmd("AI.SCRIPTRUN", "fn", "f", "INPUTS", "a", "OUTPUTS", "o"), cmd("EXISTS", "o")));
        return calls;
    }

    @Test
    void smartRedisScriptSequenceAnswersAsTheFrontDoes() throws Exception {
        Path socket = dir.resolve("ms.sock");
        try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("model-server"), socket, "TORCH");
             ModuleRedis module = ModuleRedis.withModule(dir.resolve("redis"), leftovers.freeBase(1), "SOCKET",
                     socket.toString(), "BACKENDS", "TORCH");
             RawReplies toModule = new RawReplies(module.port())) {
            List<String> fromModule = TensorWireIT.replies(toModule, sequence());
            // The outputs are the functions': (a + b) / 2 and (a + b) * 3 + len(keys), by hand.
            assertThat(show(toModule.call(b("AI.TENSORGET"), b("c"), b("BLOB"))))
                    .isEqualTo(show(b("$16\r\n")) + show(floats(5.5f, 11, 0, 2.25f)) + "\\x0d\\x0a");
            assertThat(show(toModule.call(b("AI.TENSORGET"), b("e.o"), b("BLOB"))))
                    .isEqualTo(show(b("$12\r\n")) + show(floats(6.5f, 8, 8)) + "\\x0d\\x0a");
            // The stored script is the front's hash, field for field (the random id aside).
            byte[][] hmget = cmd("HMGET", "s2", "type", "device", "tag", "entrypoints", "source");
            fromModule.add(TensorWireIT.reply(toModule, hmget));
            for (String key : List.of("c", "r0", "r1", "cat", "e.o", "e.o2")) {
                fromModule.add(TensorWireIT.reply(toModule, b("GET"), b(key)));
            }
            // AI.INFO of a script: two good calls, one failing in the runtime (an error), one refused before (not
            // counted); the duration masked.
            List<byte[][]> info = List.of(cmd("AI.SCRIPTRUN", "s", "helper", "INPUTS", "a", "OUTPUTS", "o"),
                    cmd("AI.SCRIPTRUN", "s", "helper", "INPUTS", "b", "OUTPUTS", "o"),
                    cmd("AI.SCRIPTRUN", "s", "fails", "INPUTS", "a", "OUTPUTS", "o"),
                    cmd("AI.SCRIPTRUN", "s", "helper", "INPUTS", "no.such", "OUTPUTS", "o"),
                    cmd("AI.INFO", "s2"), cmd("AI.INFO", "s2", "RESETSTAT"), cmd("AI.INFO", "s2"),
                    cmd("AI.INFO", "plain"), cmd("AI.INFO"));
            List<String> infoModule = toModule.pipeline(info).stream().map(r -> maskDuration(show(r))).toList();
            for (int i = 0; i < info.size(); i++) {
                fromModule.add(TensorWireIT.label(info.get(i)) + " -> " + infoModule.get(i));
            }
            Golden.check("script-smartredis-sequence", fromModule);
            assertThat(infoModule.get(8)).as("AI.INFO without a key: libtorch's version").contains("+Torch version");
            List<byte[]> sInfo = toModule.pipeline(List.<byte[][]>of(cmd("AI.INFO", "s")));
            assertThat(maskDuration(show(sInfo.get(0)))).as("the counters of s").contains("SCRIPT")
                    .contains("$5\\x0d\\x0acalls\\x0d\\x0a:");
        }
    }

    /** A script is data: a new model server (restarted) gets the stored source pushed on the first call. */
    @Test
    void aRestartedModelServerGetsTheStoredScriptOnTheFirstCall() throws Exception {
        Path socket = dir.resolve("ms.sock");
        try (ModuleRedis module = ModuleRedis.withModule(dir.resolve("redis"), leftovers.freeBase(1), "SOCKET",
                socket.toString(), "BACKENDS", "TORCH"); RespClient c = module.client()) {
            try (ModelServerProcess server = ModelServerProcess.start(dir.resolve("ms1"), socket, "TORCH")) {
                assertThat(c.call("AI.SCRIPTSET", "fn", "CPU", "SOURCE", INDENTED)).isEqualTo(new RespSimple("OK"));
            }
            assertThat(c.call("AI.TENSORSET", "x", "FLOAT", 2, "BLOB", floats(1, 2))).isEqualTo(new RespSimple("OK"));
            try (ModelServerProcess again = ModelServerProcess.start(dir.resolve("ms2"), socket, "TORCH")) {
                assertThat(c.call("AI.SCRIPTRUN", "fn", "f", "INPUTS", "x", "OUTPUTS", "y"))
                        .isEqualTo(new RespSimple("OK"));
                assertThat(c.call("AI.TENSORGET", "y", "BLOB")).isEqualTo(floats(2, 3));
            }
        }
    }
}
