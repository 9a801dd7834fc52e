package io.smartsim.launch.ai;

import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.RedisServer;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The front before a real redis-server, with no model backend on the class path: the command sequences SmartRedis
 * 0.6.1 sends for tensors (shared/notes/redisai.md section 1), reply shapes read by position (section 2), RedisAI's
 * error texts, and plain Redis commands passing through.
 */
class AiFrontIT {
    @RegisterExtension
    static final Leftovers leftovers = Leftovers.perClass(); // checked once the class's shared servers are gone
    static final RespSimple OK = new RespSimple("OK");
    static RedisServer redis;
    static AiServer front;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        leftovers.dir(redis.dir()).port(redis.port()); // its working dir and port (a standalone server: no bus)
        front = new AiServer(AiServerConfig.of("127.0.0.1", RedisServer.freePort(), redis.address()),
                Backends.of(List.of())).start();
        leftovers.port(front.port());
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

    static RespClient client() throws Exception {
        return RespClient.connect(front.port());
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    static String str(Object bulk) {
        return new String((byte[]) bulk, StandardCharsets.UTF_8);
    }

    @Test
    void connectPingIsPong() throws Exception {
        try (RespClient c = client()) {
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
        }
    }

    @Test
    void putGetTensorHasSmartRedisShapes() throws Exception {
        byte[] data = floats(1, 2, 3, 4, 5, 6);
        try (RespClient c = client()) {
            assertThat(c.call("AI.TENSORSET", "t.put", "FLOAT", "2", "3", "BLOB", data)).isEqualTo(OK);
            Object r = c.call("AI.TENSORGET", "t.put", "META", "BLOB");
            List<?> l = (List<?>) r;
            assertThat(l).hasSize(6);
            // [1] and [5] must be bulk strings, [3] an array of integers (gettensorcommand.cpp reads by position).
            assertThat(l.get(0)).isInstanceOf(byte[].class);
            assertThat(str(l.get(0))).isEqualTo("dtype");
            assertThat(str(l.get(1))).isEqualTo("FLOAT");
            assertThat(str(l.get(2))).isEqualTo("shape");
            assertThat(l.get(3)).isEqualTo(List.of(2L, 3L));
            assertThat(str(l.get(4))).isEqualTo("blob");
            assertThat((byte[]) l.get(5)).isEqualTo(data);
            // tensor_exists / poll_tensor, copy via GET+SET, delete (standalone DEL, cluster UNLINK)
            assertThat(c.call("EXISTS", "t.put")).isEqualTo(1L);
            assertThat(c.call("RENAME", "t.put", "t.renamed")).isEqualTo(OK);
            assertThat(((List<?>) c.call("AI.TENSORGET", "t.renamed", "META", "BLOB")).get(3)).isEqualTo(List.of(2L, 3L));
            assertThat(c.call("UNLINK", "t.renamed")).isEqualTo(1L);
            assertThat(c.call("EXISTS", "t.renamed")).isEqualTo(0L);
        }
    }

    @Test
    void everyDtypeRoundTrips() throws Exception {
        try (RespClient c = client()) {
            String[] types = {"FLOAT", "DOUBLE", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16"};
            int[] sizes = {4, 8, 1, 2, 4, 8, 1, 2};
            for (int i = 0; i < types.length; i++) {
                byte[] data = new byte[3 * sizes[i]];
                for (int k = 0; k < data.length; k++) {
                    data[k] = (byte) (k * 7 + i);
                }
                assertThat(c.call("AI.TENSORSET", "t." + types[i], types[i], "3", "BLOB", data)).isEqualTo(OK);
                List<?> l = (List<?>) c.call("AI.TENSORGET", "t." + types[i], "META", "BLOB");
                assertThat(str(l.get(1))).isEqualTo(types[i]);
                assertThat((byte[]) l.get(5)).isEqualTo(data);
            }
        }
    }

    @Test
    void tensorGetFormsAsRedisAi() throws Exception {
        try (RespClient c = client()) {
            assertThat(c.call("AI.TENSORSET", "t.v", "INT32", "2", "2", "VALUES", "1", "-2", "3", "4")).isEqualTo(OK);
            assertThat(c.call("AI.TENSORGET", "t.v", "VALUES")).isEqualTo(List.of(1L, -2L, 3L, 4L));
            List<?> meta = (List<?>) c.call("AI.TENSORGET", "t.v", "META");
            assertThat(meta).hasSize(4);
            assertThat(meta.get(3)).isEqualTo(List.of(2L, 2L));
            List<?> mv = (List<?>) c.call("AI.TENSORGET", "t.v", "META", "VALUES");
            assertThat(str(mv.get(4))).isEqualTo("values");
            assertThat(mv.get(5)).isEqualTo(List.of(1L, -2L, 3L, 4L));
            // BLOB alone is the bare bulk string; no format means META and BLOB.
            assertThat(c.call("AI.TENSORGET", "t.v", "BLOB")).isInstanceOf(byte[].class);
            assertThat((List<?>) c.call("AI.TENSORGET", "t.v")).hasSize(6);
            assertThat(c.call("AI.TENSORSET", "t.f", "FLOAT", "2", "VALUES", "1.5", "0.1")).isEqualTo(OK);
            List<?> fv = (List<?>) c.call("AI.TENSORGET", "t.f", "VALUES");
            assertThat(str(fv.get(0))).isEqualTo("1.5");
            assertThat(str(fv.get(1))).isEqualTo("0.10000000149011612"); // the float 0.1 as %.17g
            // No data: zeros.
            assertThat(c.call("AI.TENSORSET", "t.z", "INT64", "3")).isEqualTo(OK);
            assertThat(c.call("AI.TENSORGET", "t.z", "VALUES")).isEqualTo(List.of(0L, 0L, 0L));
        }
    }

    @Test
    void badTensorsAreRefusedWithRedisAiTexts() throws Exception {
        try (RespClient c = client()) {
            assertThat(c.call("AI.TENSORSET", "t.bad", "FLOAT16", "2", "BLOB", floats(1, 2)))
                    .isEqualTo(new RespError("ERR invalid data type"));
            assertThat(c.call("AI.TENSORSET", "t.bad", "FLOAT", "2", "3", "BLOB", floats(1, 2)))
                    .isEqualTo(new RespError("ERR data length does not match tensor shape and type"));
            assertThat(c.call("AI.TENSORSET", "t.bad", "FLOAT", "-2", "BLOB", floats(1, 2)))
                    .isEqualTo(new RespError("ERR invalid or negative value found in tensor shape"));
            assertThat(c.call("AI.TENSORSET", "t.bad", "FLOAT", "2", "BLOB", floats(1), floats(2)))
                    .isEqualTo(new RespError("ERR a single binary string should come after the BLOB argument in "
                            + "'AI.TENSORSET' command"));
            assertThat(c.call("AI.TENSORSET", "t.bad", "FLOAT", "2", "VALUES", "1"))
                    .isEqualTo(new RespError("ERR wrong number of values was given in 'AI.TENSORSET' command"));
            assertThat(c.call("AI.TENSORSET", "t.bad", "FLOAT"))
                    .isEqualTo(new RespError("ERR wrong number of arguments for 'AI.TENSORSET' command"));
            assertThat(c.call("AI.TENSORGET", "t.missing", "META", "BLOB"))
                    .isEqualTo(new RespError("ERR tensor key is empty or in a different shard"));
            assertThat(c.call("SET", "plain", "x")).isEqualTo(OK);
            assertThat(c.call("AI.TENSORGET", "plain", "META", "BLOB"))
                    .isEqualTo(new RespError("WRONGTYPE Operation against a key holding the wrong kind of value"));
            assertThat(c.call("AI.TENSORSET", "t.ok", "FLOAT", "1", "BLOB", floats(1))).isEqualTo(OK);
            assertThat(c.call("AI.TENSORGET", "t.ok", "BLOB", "VALUES"))
                    .isEqualTo(new RespError("ERR both BLOB and VALUES specified"));
            assertThat(c.call("AI.TENSORGET", "t.ok", "JSON")).isEqualTo(new RespError("ERR unsupported data format"));
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
        }
    }

    @Test
    void modelCommandsWithoutBackendAnswerRedisAiErrors() throws Exception {
        try (RespClient c = client()) {
            // set_model starts with AI.CONFIG GET MODEL_CHUNK_SIZE, which must be an integer.
            assertThat(c.call("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")).isEqualTo(AiCommands.DEFAULT_CHUNK_SIZE);
            assertThat(c.call("AI.MODELSTORE", "m", "ONNX", "CPU", "BLOB", "xx"))
                    .isEqualTo(new RespError("ERR Backend not loaded: ONNX"));
            for (String b : List.of("TORCH", "TFLITE")) { // a known backend whose module is not on the class path
                assertThat(c.call("AI.MODELSTORE", "m", b, "CPU", "BLOB", "xx"))
                        .isEqualTo(new RespError("ERR Backend not loaded: " + b));
            }
            assertThat(c.call("AI.MODELSTORE", "m", "TF", "CPU", "INPUTS", "1", "x", "OUTPUTS", "1", "y", "BLOB", "xx"))
                    .isEqualTo(new RespError("ERR Backend not loaded: TF"));
            assertThat(c.call("AI.MODELSTORE", "m", "CAFFE", "CPU", "BLOB", "xx"))
                    .isEqualTo(new RespError("ERR unsupported backend"));
            assertThat(c.call("AI.MODELSTORE", "m", "ONNX", "TPU", "BLOB", "xx"))
                    .isEqualTo(new RespError("ERR Invalid DEVICE"));
            assertThat(c.call("AI.MODELSTORE", "m", "ONNX", "CPU", "INPUTS", "1", "x", "BLOB", "xx"))
                    .isEqualTo(new RespError("ERR INPUTS argument should not be specified for this backend"));
            assertThat(c.call("AI.MODELGET", "m.none", "BLOB")).isEqualTo(new RespError("ERR model key is empty"));
            assertThat(c.call("AI.MODELDEL", "m.none")).isEqualTo(new RespError("ERR model key is empty"));
            assertThat(c.call("AI.MODELEXECUTE", "m.none", "INPUTS", "1", "a", "OUTPUTS", "1", "b"))
                    .isEqualTo(new RespError("ERR model key is empty"));
            assertThat(c.call("AI.INFO", "m.none")).isEqualTo(new RespError("ERR cannot find run info for key"));
            assertThat(c.call("AI.SCRIPTSET", "s", "CPU", "SOURCE", "def f(a): return a"))
                    .isEqualTo(new RespError("ERR Backend not loaded: TORCH"));
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
        }
    }

    @Test
    void configAndInfo() throws Exception {
        try (RespClient c = client()) {
            assertThat(c.call("AI.CONFIG", "MODEL_CHUNK_SIZE", "1024")).isEqualTo(OK);
            assertThat(c.call("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")).isEqualTo(1024L);
            assertThat(c.call("AI.CONFIG", "MODEL_CHUNK_SIZE", "0"))
                    .isEqualTo(new RespError("ERR MODEL_CHUNK_SIZE: invalid chunk size"));
            assertThat(c.call("AI.CONFIG", "MODEL_CHUNK_SIZE", String.valueOf(AiCommands.DEFAULT_CHUNK_SIZE)))
                    .isEqualTo(OK);
            assertThat(c.call("AI.CONFIG", "LOADBACKEND", "ONNX", "/x/backends/onnx.so"))
                    .isEqualTo(new RespError("ERR error loading backend"));
            assertThat(c.call("AI.CONFIG", "NOPE")).isEqualTo(new RespError("ERR unsupported subcommand"));
            List<?> info = (List<?>) c.call("AI.INFO");
            assertThat(info).hasSize(6);
            assertThat(info.get(0)).isEqualTo(new RespSimple("Version"));
        }
    }

    @Test
    void plainCommandsPassThrough() throws Exception {
        try (RespClient c = client()) {
            assertThat(c.call("SET", "k", "v")).isEqualTo(OK);
            assertThat(str(c.call("GET", "k"))).isEqualTo("v");
            assertThat(c.call("GET", "k.none")).isNull();
            assertThat(c.call("HSET", "{ds}.meta", "f", "v")).isEqualTo(1L);
            assertThat(c.call("HEXISTS", "{ds}.meta", ".COMPLETE")).isEqualTo(0L);
            assertThat(c.call("NOSUCHCMD")).isInstanceOf(RespError.class);
            assertThat(c.call("AI.DAGEXECUTE", "x")).isInstanceOf(RespError.class); // not ours: Redis's unknown command
            List<?> cfg = (List<?>) c.call("CONFIG", "GET", "maxmemory");
            assertThat(cfg).hasSize(2).allSatisfy(v -> assertThat(v).isInstanceOf(byte[].class));
            assertThat(str(cfg.get(0))).isEqualTo("maxmemory");
            assertThat(c.call("INFO", "EVERYTHING")).isInstanceOf(byte[].class);
        }
    }

    @Test
    void pipelinedDatasetLikeSmartRedis() throws Exception {
        try (RespClient c = client()) {
            List<Object[]> p = new ArrayList<>();
            p.add(new Object[] {"DEL", "{ds1}.meta"});
            p.add(new Object[] {"HMSET", "{ds1}.meta", "label", "\u0007x"});
            p.add(new Object[] {"AI.TENSORSET", "{ds1}.t", "FLOAT", "2", "BLOB", floats(1, 2)});
            p.add(new Object[] {"AI.TENSORSET", "{ds1}.bad", "FLOAT", "3", "BLOB", floats(1, 2)});
            p.add(new Object[] {"HSET", "{ds1}.meta", ".COMPLETE", "1"});
            List<Object> r = c.pipeline(p);
            assertThat(r).containsExactly(0L, OK, OK,
                    new RespError("ERR data length does not match tensor shape and type"), 1L);
            List<Object[]> get = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                get.add(new Object[] {i % 2 == 0 ? "HGETALL" : "AI.TENSORGET", i % 2 == 0 ? "{ds1}.meta" : "{ds1}.t",
                        "META", "BLOB"}.clone());
            }
            // HGETALL takes one key: strip the extra arguments for those.
            for (int i = 0; i < get.size(); i += 2) {
                get.set(i, new Object[] {"HGETALL", "{ds1}.meta"});
            }
            List<Object> r2 = c.pipeline(get);
            for (int i = 0; i < r2.size(); i++) {
                assertThat((List<?>) r2.get(i)).hasSize(i % 2 == 0 ? 4 : 6);
            }
        }
    }

    @Test
    void transactionsAndBlockingCommands() throws Exception {
        try (RespClient c = client(); RespClient d = client()) {
            assertThat(c.call("MULTI")).isEqualTo(OK);
            assertThat(c.call("SET", "tx", "1")).isEqualTo(new RespSimple("QUEUED"));
            assertThat(c.call("AI.TENSORGET", "x")).isInstanceOf(RespError.class);
            assertThat(c.call("INCR", "tx")).isEqualTo(new RespSimple("QUEUED"));
            assertThat(c.call("EXEC")).isEqualTo(List.of(OK, 2L));
            CompletableFuture<Object> popped = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.call("BLPOP", "q", "60");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            // Push only once redis-server itself holds a client blocked on "q": a push before that would be popped at
            // once, and blocking never exercised.
            try (RespClient direct = RespClient.connect(redis.port())) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!str(direct.call("CLIENT", "LIST")).contains(" cmd=blpop ")) {
                    assertThat(popped).as("BLPOP on an empty list answered before anything was pushed").isNotDone();
                    assertThat(System.nanoTime() - deadline).as("a client blocked in BLPOP within 30 s")
                            .isNegative();
                    Thread.sleep(10);
                }
            }
            assertThat(popped).isNotDone();
            assertThat(d.call("RPUSH", "q", "item")).isEqualTo(1L);
            List<?> got = (List<?>) popped.get(30, TimeUnit.SECONDS);
            assertThat(str(got.get(0))).isEqualTo("q");
            assertThat(str(got.get(1))).isEqualTo("item");
        }
    }

    @Test
    void publishSubscribeTunnels() throws Exception {
        try (RespClient sub = client(); RespClient pub = client()) {
            List<?> ack = (List<?>) sub.call("SUBSCRIBE", "ch");
            assertThat(str(ack.get(0))).isEqualTo("subscribe");
            assertThat(pub.call("PUBLISH", "ch", "hello")).isEqualTo(1L);
            List<?> msg = (List<?>) sub.read();
            assertThat(str(msg.get(2))).isEqualTo("hello");
        }
    }

    @Test
    void resp3IsRefusedSoClientsFallBack() throws Exception {
        try (RespClient c = client()) {
            assertThat(c.call("HELLO", "3")).isEqualTo(new RespError("NOPROTO this server speaks RESP2 only"));
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
        }
    }

    @Test
    void tensorsSurviveARestartOfTheFront() throws Exception {
        try (RespClient c = client()) {
            assertThat(c.call("AI.TENSORSET", "t.keep", "DOUBLE", "1", "BLOB", new byte[8])).isEqualTo(OK);
        }
        try (AiServer second = new AiServer(AiServerConfig.of("127.0.0.1", RedisServer.freePort(), redis.address()),
                Backends.of(List.of())).start(); RespClient c = RespClient.connect(second.port())) {
            leftovers.port(second.port());
            assertThat(((List<?>) c.call("AI.TENSORGET", "t.keep", "META", "BLOB")).get(3)).isEqualTo(List.of(1L));
        }
    }

    @Test
    void inlineCommandsAndProtocolErrors() throws Exception {
        try (RespClient c = client()) {
            c.sendRaw("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(c.read()).isEqualTo(new RespSimple("PONG"));
            c.sendRaw("*1\r\n$abc\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(c.read()).isInstanceOf(RespError.class);
        }
        try (RespClient c = client()) {
            assertThat(c.call("PING")).isEqualTo(new RespSimple("PONG"));
        }
    }
}
