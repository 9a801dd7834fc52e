package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.AiCalls;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.ai.torch.PipeGate;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.smartsim.launch.ai.testing.AiCalls.OK;
import static io.smartsim.launch.ai.testing.AiCalls.errorText;
import static io.smartsim.launch.ai.testing.AiCalls.floats;
import static io.smartsim.launch.ai.testing.AiCalls.str;
import static io.smartsim.launch.ai.testing.AiCalls.toFloats;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * TorchScript source scripts through the module path every launcher serves {@code --ai} with (issue 16): a real
 * redis-server loading the smartsim-ai module and the real model server with the TORCH backend on its socket
 * ({@link ModuleShard}). AI.SCRIPTSET and AI.SCRIPTRUN exactly as SmartRedis 0.6.1 sends them
 * (shared/notes/redisai.md section 1: the deprecated forms, no counts, no TIMEOUT), and RedisAI 1.2.7's AI.SCRIPTSTORE /
 * AI.SCRIPTEXECUTE. libtorch compiles the source; outputs are checked against values computed here; the error texts
 * are the ones the Java front answered (TorchScriptFrontIT, which this replaces).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class TorchScriptModuleIT {
    @RegisterExtension
    static final Leftovers leftovers = Leftovers.perClass(); // checked once the class's shared servers are gone
    static final String SCRIPT = String.join("\n",
            "import torch",
            "",
            "def add_and_scale(a, b):",
            "    \"\"\"Halves a + b through helper(), which is another function of this script.\"\"\"",
            "    return helper(a + b)",
            "",
            "def helper(x):",
            "    # helper(x) is called by add_and_scale",
            "    return x * 0.5",
            "",
            "def split(x):",
            "    return x[0], x[1]",
            "",
            "def cat_all(first, rest: List[Tensor]):",
            "    return torch.cat([first] + rest, 0)",
            "",
            "def pre_process(inp):",
            "    mean = torch.zeros(1).float().to(inp.device)",
            "    mean[0] = 2.0",
            "    return inp.float() - mean",
            "",
            "def execute_sum(tensors: List[Tensor], keys: List[str], args: List[str]):",
            "    s = tensors[0]",
            "    for t in tensors[1:]:",
            "        s = s + t",
            "    return s * int(args[0]) + len(keys)",
            "",
            "def wait_at(tensors: List[Tensor], keys: List[str], args: List[str]):",
            "    # opens the named pipe args[0] for reading: waits there until a writer opens it (see PipeGate)",
            "    return tensors[0] + torch.from_file(args[0], False, 1).sum()",
            "");

    @TempDir
    static Path dir;
    static ModuleShard shard;

    @BeforeAll
    static void start() throws Exception {
        shard = ModuleShard.start(dir, leftovers.freeBase(1), "TORCH");
    }

    @AfterAll
    static void stop() throws Exception {
        if (shard != null) {
            shard.close();
        }
    }

    @Test
    void setRunGetDeleteScriptLikeSmartRedis() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            long t0 = System.nanoTime();
            assertThat(c.call("AI.SCRIPTSET", "s.1", "CPU", "SOURCE", SCRIPT)).isEqualTo(OK);
            System.out.printf("TorchScriptModuleIT: SCRIPTSET (compile) %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            assertThat(c.call("EXISTS", "s.1")).isEqualTo(1L);
            assertThat(c.call("AI.TENSORSET", "s.a", "FLOAT", "2", "2", "BLOB", floats(1, 2, 3, 4))).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "s.b", "FLOAT", "2", "2", "BLOB", floats(10, 20, -3, 0.5f)))
                    .isEqualTo(OK);

            assertThat(c.call("AI.SCRIPTRUN", "s.1", "add_and_scale", "INPUTS", "s.a", "s.b", "OUTPUTS", "s.c"))
                    .isEqualTo(OK);
            List<?> out = (List<?>) c.call("AI.TENSORGET", "s.c", "META", "BLOB");
            assertThat(str(out.get(1))).isEqualTo("FLOAT");
            assertThat(out.get(3)).isEqualTo(List.of(2L, 2L));
            assertThat(toFloats((byte[]) out.get(5))).containsExactly(5.5f, 11, 0, 2.25f);

            assertThat(c.call("AI.SCRIPTRUN", "s.1", "split", "INPUTS", "s.a", "OUTPUTS", "s.r0", "s.r1"))
                    .isEqualTo(OK);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "s.r0", "BLOB"))).containsExactly(1, 2);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "s.r1", "BLOB"))).containsExactly(3, 4);

            // RedisAI's "$": the inputs after it go together as one List[Tensor] argument.
            assertThat(c.call("AI.SCRIPTRUN", "s.1", "cat_all", "INPUTS", "s.a", "$", "s.b", "s.a", "OUTPUTS",
                    "s.cat")).isEqualTo(OK);
            List<?> cat = (List<?>) c.call("AI.TENSORGET", "s.cat", "META", "BLOB");
            assertThat(cat.get(3)).isEqualTo(List.of(6L, 2L));
            assertThat(toFloats((byte[]) cat.get(5))).containsExactly(1, 2, 3, 4, 10, 20, -3, 0.5f, 1, 2, 3, 4);

            assertThat(c.call("AI.TENSORSET", "s.i", "INT32", "3", "VALUES", "5", "2", "-1")).isEqualTo(OK);
            assertThat(c.call("AI.SCRIPTRUN", "s.1", "pre_process", "INPUTS", "s.i", "OUTPUTS", "s.p")).isEqualTo(OK);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "s.p", "BLOB"))).containsExactly(3, 0, -3);

            assertThat(str(c.call("AI.SCRIPTGET", "s.1", "SOURCE"))).isEqualTo(SCRIPT);
            List<?> meta = (List<?>) c.call("AI.SCRIPTGET", "s.1", "META");
            assertThat(meta).hasSize(6);
            assertThat(str(meta.get(1))).isEqualTo("CPU");
            List<?> info = (List<?>) c.call("AI.INFO", "s.1");
            assertThat(str(info.get(3))).isEqualTo("SCRIPT");
            assertThat(str(info.get(5))).isEqualTo("TORCH");
            assertThat(info.get(15)).isEqualTo(4L); // calls

            assertThat(c.call("AI.SCRIPTDEL", "s.1")).isEqualTo(OK);
            assertThat(c.call("EXISTS", "s.1")).isEqualTo(0L);
            assertThat(errorText(c.call("AI.SCRIPTRUN", "s.1", "split", "INPUTS", "s.a", "OUTPUTS", "x")))
                    .isEqualTo("ERR script key is empty");
            assertThat(errorText(c.call("AI.SCRIPTGET", "s.1", "SOURCE"))).isEqualTo("ERR script key is empty");
        }
    }

    @Test
    void indentedSourceAsSetFunctionSendsItCompilesAndRuns() throws Exception {
        // SmartRedis 0.6.1's set_function sends inspect.getsource(fn) as it is: a function defined inside a test
        // (test_copy_not_dataset, test_copy_not_tensor) arrives indented. libtorch, and so RedisAI, compile it.
        String source = "    def f(x):\n        return x + 1\n";
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(c.call("AI.SCRIPTSET", "s.ind", "CPU", "SOURCE", source)).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "ind.a", "FLOAT", "2", "BLOB", floats(1, 2))).isEqualTo(OK);
            assertThat(c.call("AI.SCRIPTRUN", "s.ind", "f", "INPUTS", "ind.a", "OUTPUTS", "ind.o")).isEqualTo(OK);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "ind.o", "BLOB"))).containsExactly(2, 3);
            assertThat(str(c.call("AI.SCRIPTGET", "s.ind", "SOURCE"))).as("the source is kept as sent")
                    .isEqualTo(source);
        }
    }

    @Test
    void scriptStoreAndExecuteCallWithTensorsKeysAndArgs() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(c.call("AI.SCRIPTSTORE", "s.2", "CPU", "TAG", "v2", "ENTRY_POINTS", "1", "execute_sum",
                    "SOURCE", SCRIPT)).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "e.a", "FLOAT", "3", "BLOB", floats(1, 2, 3))).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "e.b", "FLOAT", "3", "BLOB", floats(0.5f, 0, -1))).isEqualTo(OK);
            assertThat(c.call("AI.SCRIPTEXECUTE", "s.2", "execute_sum", "KEYS", "2", "e.a", "e.b", "INPUTS", "2",
                    "e.a", "e.b", "ARGS", "1", "3", "OUTPUTS", "1", "e.o", "TIMEOUT", "60000")).isEqualTo(OK);
            // (a + b) * 3 + len(keys)
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "e.o", "BLOB"))).containsExactly(6.5f, 8, 8);
            // No KEYS: an empty List[str] (which DJL cannot make directly; the adapter method drops a padding element)
            assertThat(c.call("AI.SCRIPTEXECUTE", "s.2", "execute_sum", "INPUTS", "1", "e.a", "ARGS", "1", "2",
                    "OUTPUTS", "1", "e.o2")).isEqualTo(OK);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "e.o2", "BLOB"))).containsExactly(2, 4, 6);
            assertThat(errorText(c.call("AI.SCRIPTEXECUTE", "s.2", "helper", "INPUTS", "1", "e.a", "OUTPUTS", "1",
                    "e.o3"))).isEqualTo("ERR AI.SCRIPTEXECUTE calls fn(tensors: List[Tensor], keys: List[str], "
                    + "args: List[str]); 'helper' is not declared so");
            List<?> meta = (List<?>) c.call("AI.SCRIPTGET", "s.2", "META", "SOURCE");
            assertThat(meta).hasSize(8);
            assertThat(str(meta.get(3))).isEqualTo("v2");
            assertThat(((List<?>) meta.get(5)).stream().map(AiCalls::str).toList()).containsExactly("execute_sum");
            assertThat(errorText(c.call("AI.SCRIPTSTORE", "s.3", "CPU", "ENTRY_POINTS", "1", "nope", "SOURCE",
                    SCRIPT))).isEqualTo("ERR entry point 'nope' is not a function of the script");
            assertThat(c.call("EXISTS", "s.3")).isEqualTo(0L);
        }
    }

    @Test
    void storedScriptsRunAfterARestartOfTheModelServer() throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(c.call("AI.SCRIPTSET", "s.keep", "CPU", "SOURCE", SCRIPT)).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "k.a", "FLOAT", "2", "BLOB", floats(4, 6))).isEqualTo(OK);
        }
        // The new model server knows no script: the module pushes the stored source on its first call.
        shard.restartModelServer();
        try (RespClient c = RespClient.connect(shard.port())) {
            assertThat(c.call("AI.SCRIPTRUN", "s.keep", "helper", "INPUTS", "k.a", "OUTPUTS", "k.o")).isEqualTo(OK);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "k.o", "BLOB"))).containsExactly(2, 3);
        }
    }

    @Test
    void badScriptsAndBadCallsAreErrorsAndTheServerGoesOn(@TempDir Path gateDir) throws Exception {
        try (RespClient c = RespClient.connect(shard.port())) {
            String syntax = errorText(c.call("AI.SCRIPTSET", "s.bad", "CPU", "SOURCE",
                    "def f(a):\n    return a +\n"));
            assertThat(syntax).startsWith("ERR ").doesNotContain("\n");
            String undefined = errorText(c.call("AI.SCRIPTSET", "s.bad", "CPU", "SOURCE",
                    "def f(a):\n    return a + undefined_name\n"));
            assertThat(undefined).startsWith("ERR ").contains("undefined_name");
            assertThat(errorText(c.call("AI.SCRIPTSET", "s.bad", "CPU", "SOURCE", "x = 1\n")))
                    .isEqualTo("ERR script has no top-level function (def name(...):)");
            assertThat(errorText(c.call("AI.SCRIPTSET", "s.bad", "CPU", "SOURCE")))
                    .isEqualTo("ERR wrong number of arguments for 'AI.SCRIPTSET' command");
            assertThat(errorText(c.call("AI.SCRIPTSET", "s.bad", "CPU", "TAG", "t")))
                    .isEqualTo("ERR Insufficient arguments, missing script SOURCE");
            assertThat(errorText(c.call("AI.SCRIPTSET", "s.bad", "CPU", "TAG", "t", "SRC", "def f(a): return a")))
                    .isEqualTo("ERR Insufficient arguments, missing script SOURCE");
            assertThat(c.call("EXISTS", "s.bad")).isEqualTo(0L);

            assertThat(c.call("AI.SCRIPTSET", "s.ok", "CPU", "SOURCE", SCRIPT)).isEqualTo(OK);
            assertThat(c.call("AI.TENSORSET", "b.a", "FLOAT", "2", "BLOB", floats(1, 2))).isEqualTo(OK);
            assertThat(errorText(c.call("AI.SCRIPTRUN", "s.ok", "nope", "INPUTS", "b.a", "OUTPUTS", "b.o")))
                    .isEqualTo("ERR Function does not exist: nope");
            assertThat(errorText(c.call("AI.SCRIPTRUN", "s.ok", "INPUTS", "b.a", "OUTPUTS", "b.o")))
                    .isEqualTo("ERR function name not specified");
            assertThat(errorText(c.call("AI.SCRIPTRUN", "s.ok", "add_and_scale", "INPUTS", "b.a", "OUTPUTS", "b.o")))
                    .startsWith("ERR ").contains("argument");
            assertThat(errorText(c.call("AI.SCRIPTRUN", "s.ok", "helper", "INPUTS", "no.such", "OUTPUTS", "b.o")))
                    .isEqualTo("ERR tensor key is empty or in a different shard");
            assertThat(errorText(c.call("AI.SCRIPTRUN", "s.ok", "split", "INPUTS", "b.a", "OUTPUTS", "b.o")))
                    .isEqualTo("ERR Function returned unexpected number of outputs: 2 returned, 1 OUTPUTS keys given");
            assertThat(errorText(c.call("AI.SCRIPTRUN", "s.ok", "helper", "b.a")))
                    .isEqualTo("ERR Unrecongnized parameter to SCRIPTRUN");
            assertThat(c.call("EXISTS", "b.o")).isEqualTo(0L);
            assertThat(c.call("SET", "plain", "v")).isEqualTo(OK);
            assertThat(errorText(c.call("AI.SCRIPTSET", "plain", "CPU", "SOURCE", SCRIPT)))
                    .isEqualTo("WRONGTYPE Operation against a key holding the wrong kind of value");
            assertThat(errorText(c.call("AI.SCRIPTSET", "s.gpu", "GPU", "SOURCE", SCRIPT)))
                    .startsWith("ERR GPU requested but libtorch cannot use it here");

            try (PipeGate gate = PipeGate.create(gateDir.resolve("gate"),
                    Duration.ofSeconds(30))) {
                // The call waits at the gate until this test opens it: past its TIMEOUT on any machine.
                assertThat(c.call("AI.SCRIPTEXECUTE", "s.ok", "wait_at", "INPUTS", "1", "b.a", "ARGS", "1",
                        gate.path().toString(), "OUTPUTS", "1", "b.slow", "TIMEOUT", "100"))
                        .isEqualTo(new RespSimple("TIMEDOUT"));
                assertThat(c.call("EXISTS", "b.slow")).isEqualTo(0L);
                // The abandoned call goes on in the model server's JVM, out of this test's sight; once let through it
                // fails there, and the module, which answered TIMEDOUT, writes nothing for it.
                gate.release();
                assertThat(c.call("AI.SCRIPTRUN", "s.ok", "helper", "INPUTS", "b.a", "OUTPUTS", "b.after"))
                        .isEqualTo(OK);
                assertThat(c.call("EXISTS", "b.slow")).as("its result dropped").isEqualTo(0L);
            }

            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
            assertThat(c.call("AI.SCRIPTRUN", "s.ok", "helper", "INPUTS", "b.a", "OUTPUTS", "b.o")).isEqualTo(OK);
            assertThat(toFloats((byte[]) c.call("AI.TENSORGET", "b.o", "BLOB"))).containsExactly(0.5f, 1);
            // errors: the refused argument count, the output count, the TIMEDOUT run (not the calls refused before)
            assertThat(((List<?>) c.call("AI.INFO", "s.ok")).get(17)).isEqualTo(3L);
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
