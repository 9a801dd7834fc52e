package io.smartsim.launch.ai.module;

import io.smartsim.launch.ai.resp.RespError;
import io.smartsim.launch.ai.resp.RespSimple;
import io.smartsim.launch.ai.testing.RespClient;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The module in a real 3-master Redis Cluster: Redis itself routes the AI commands by the key positions the module
 * registered. A key of another shard gets {@code MOVED slot host:port} naming its owner (for the model and script
 * commands too, the defect of the Java front in issue 16), {@code redis-cli -c} follows it, and a run whose keys
 * hash to different slots gets {@code CROSSSLOT}, while ARGS values of AI.SCRIPTEXECUTE are not taken for keys.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ModuleClusterIT {
    @RegisterExtension
    static final Leftovers leftovers = Leftovers.perClass(); // checked once the class's shared servers are gone
    static final Duration FORM = Duration.ofSeconds(90);

    @TempDir
    static Path dir;
    static final List<ModuleRedis> shards = new ArrayList<>();

    @BeforeAll
    static void startCluster() throws Exception {
        int base = leftovers.freeBase(3);
        List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
        for (int i = 0; i < 3; i++) {
            shards.add(ModuleRedis.withModule(dir.resolve("shard" + i), base + i, "--cluster-enabled", "yes",
                    "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"));
            create.add("127.0.0.1:" + (base + i));
        }
        create.add("--cluster-yes");
        Run formed = run(create);
        assertThat(formed.exit()).as("redis-cli --cluster create: " + formed.out()).isZero();
        Instant deadline = Instant.now().plus(FORM);
        for (ModuleRedis s : shards) {
            while (!clusterOk(s)) {
                assertThat(Instant.now()).as("cluster_state:ok on port " + s.port() + " within " + FORM)
                        .isBefore(deadline);
                Thread.sleep(100);
            }
        }
    }

    @AfterAll
    static void stopCluster() throws Exception {
        for (ModuleRedis s : shards) {
            s.close();
        }
        // Then the Leftovers check: processes of the @TempDir, the shards' ports and bus ports on every address.
    }

    @AfterEach
    void clusterStillServes() throws Exception {
        for (ModuleRedis s : shards) {
            assertThat(clusterOk(s)).as("shard on port " + s.port() + " still serves the cluster").isTrue();
        }
    }

    static boolean clusterOk(ModuleRedis s) throws IOException {
        try (RespClient c = s.client()) {
            Object info = c.call("CLUSTER", "INFO");
            return info instanceof byte[] b && new String(b, StandardCharsets.UTF_8).contains("cluster_state:ok");
        }
    }

    record Run(int exit, String out) {
    }

    static Run run(List<String> argv) throws Exception {
        Path out = Files.createTempFile(dir, "run", ".out");
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError(argv + " did not end within 60 s: " + Files.readString(out));
        }
        return new Run(p.exitValue(), Files.readString(out).strip());
    }

    /** redis-cli -c (follows MOVED/ASK) on the first shard's port. */
    static Run cli(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("redis-cli", "-c", "-p", Integer.toString(shards.get(0).port())));
        argv.addAll(List.of(args));
        return run(argv);
    }

    static int slot(String key) throws IOException {
        try (RespClient c = shards.get(0).client()) {
            return ((Long) c.call("CLUSTER", "KEYSLOT", key)).intValue();
        }
    }

    /** The port of the shard that owns {@code key}, from CLUSTER SLOTS. */
    static int owner(String key) throws IOException {
        int slot = slot(key);
        try (RespClient c = shards.get(0).client()) {
            for (Object e : (List<?>) c.call("CLUSTER", "SLOTS")) {
                List<?> range = (List<?>) e;
                if ((Long) range.get(0) <= slot && slot <= (Long) range.get(1)) {
                    return ((Long) ((List<?>) range.get(2)).get(1)).intValue();
                }
            }
        }
        throw new AssertionError("no shard serves slot " + slot);
    }

    /** A key ending in {@code name}, with a hash tag, that the first shard does not own. */
    static String elsewhere(String name) throws IOException {
        for (int i = 0; i < 1000; i++) {
            String key = "{t" + i + "}" + name;
            if (owner(key) != shards.get(0).port()) {
                return key;
            }
        }
        throw new AssertionError();
    }

    /** A key ending in {@code name}, with a hash tag, that the first shard owns. */
    static String onFirst(String name) throws IOException {
        for (int i = 0; i < 1000; i++) {
            String key = "{f" + i + "}" + name;
            if (owner(key) == shards.get(0).port()) {
                return key;
            }
        }
        throw new AssertionError();
    }

    static Object onFirstShard(Object... command) throws IOException {
        try (RespClient c = shards.get(0).client()) {
            return c.call(command);
        }
    }

    static String movedTo(String key) throws IOException {
        return "MOVED " + slot(key) + " 127.0.0.1:" + owner(key);
    }

    @Test
    void tensorKeysOfAnotherShardAreMovedAndRedisCliFollows() throws Exception {
        List<Integer> owners = new ArrayList<>();
        for (String key : List.of("alpha", "beta", "gamma", "delta", "epsilon", "zeta")) {
            owners.add(owner(key));
            if (owner(key) != shards.get(0).port()) {
                assertThat(onFirstShard("AI.TENSORSET", key, "FLOAT", 2, "VALUES", 1, 2))
                        .isEqualTo(new RespError(movedTo(key)));
                assertThat(onFirstShard("AI.TENSORGET", key, "META")).isEqualTo(new RespError(movedTo(key)));
            }
            assertThat(cli("AI.TENSORSET", key, "FLOAT", "2", "VALUES", "1.5", "-2").out()).isEqualTo("OK");
            assertThat(cli("AI.TENSORGET", key, "VALUES").out()).isEqualTo("1.5\n-2");
            try (RespClient c = RespClient.connect(owner(key))) {
                assertThat(c.call("AI.TENSORGET", key, "META")).asString().isNotNull();
                assertThat(c.call("EXISTS", key)).isEqualTo(1L);
            }
        }
        assertThat(new HashSet<>(owners)).as("the keys cover every shard").hasSize(3);
    }

    @Test
    void modelAndScriptKeysOfAnotherShardAreMovedAndRedisCliFollows() throws Exception {
        String m = elsewhere("m");
        String tag = m.substring(0, m.indexOf('}') + 1);
        String t = tag + "t";
        String o = tag + "o";
        List<List<String>> commands = List.of(
                List.of("AI.MODELSTORE", m, "ONNX", "CPU", "BLOB", "x"),
                List.of("AI.MODELGET", m, "BLOB"),
                List.of("AI.MODELDEL", m),
                // the example: model, input and output of one hash tag, sent to the wrong shard
                List.of("AI.MODELEXECUTE", m, "INPUTS", "1", t, "OUTPUTS", "1", o),
                List.of("AI.MODELEXECUTE", m, "INPUTS", "1", t, "OUTPUTS", "1", o, "TIMEOUT", "100"),
                List.of("AI.SCRIPTSET", m, "CPU", "SOURCE", "def f(x):\n    return x\n"),
                List.of("AI.SCRIPTSTORE", m, "CPU", "ENTRY_POINTS", "1", "f", "SOURCE", "def f(x):\n    return x\n"),
                List.of("AI.SCRIPTGET", m, "SOURCE"),
                List.of("AI.SCRIPTDEL", m),
                List.of("AI.SCRIPTRUN", m, "f", "INPUTS", t, "$", t, "OUTPUTS", o),
                List.of("AI.SCRIPTEXECUTE", m, "f", "KEYS", "1", t, "INPUTS", "1", t, "ARGS", "1", "3", "OUTPUTS", "1", o),
                List.of("AI.INFO", m),
                List.of("AI.INFO", m, "RESETSTAT"));
        for (List<String> command : commands) {
            assertThat(onFirstShard(command.toArray())).as(command.toString()).isEqualTo(new RespError(movedTo(m)));
            Object onOwner;
            try (RespClient c = RespClient.connect(owner(m))) {
                onOwner = c.call(command.toArray());
            }
            // The owner answers the command itself (these shards have no model server nor backend: an error, never
            // MOVED), and redis-cli -c, following MOVED, gets that same answer.
            assertThat(onOwner).as("on the owner: " + command).isInstanceOfSatisfying(RespError.class,
                    e -> assertThat(e.text()).doesNotStartWith("MOVED").doesNotStartWith("ASK"));
            assertThat(cli(command.toArray(String[]::new)).out()).as("redis-cli -c " + command)
                    .isEqualTo(((RespError) onOwner).text());
        }
        // Keyless: answered where it is sent.
        assertThat(onFirstShard("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")).isEqualTo(511L * 1024 * 1024);
        assertThat(onFirstShard("AI.INFO")).isEqualTo(
                new RespError("ERR model server not connected (the module was loaded without SOCKET <path>)"));
    }

    @Test
    void runsNamingKeysOfTwoSlotsGetCrossslot() throws Exception {
        String m = onFirst("m");
        String tag = m.substring(0, m.indexOf('}') + 1);
        String other = onFirst("other").replace("{f", "{g"); // another slot (any shard)
        assertThat(slot(other)).isNotEqualTo(slot(m));
        RespError crossslot = new RespError("CROSSSLOT Keys in request don't hash to the same slot");
        List<List<Object>> crossing = List.of(
                List.of("AI.MODELEXECUTE", m, "INPUTS", 2, tag + "a", other, "OUTPUTS", 1, tag + "o"),
                List.of("AI.MODELEXECUTE", m, "INPUTS", 1, tag + "a", "OUTPUTS", 2, tag + "o", other),
                List.of("AI.SCRIPTRUN", m, "f", "INPUTS", tag + "a", "$", other, "OUTPUTS", tag + "o"),
                List.of("AI.SCRIPTRUN", m, "f", "INPUTS", tag + "a", "OUTPUTS", other),
                List.of("AI.SCRIPTEXECUTE", m, "f", "KEYS", 1, other, "INPUTS", 1, tag + "a"),
                List.of("AI.SCRIPTEXECUTE", m, "f", "INPUTS", 1, tag + "a", "OUTPUTS", 1, other));
        for (List<Object> command : crossing) {
            assertThat(onFirstShard(command.toArray())).as(command.toString()).isEqualTo(crossslot);
        }
        // ARGS are values, not keys; TIMEOUT's value neither: no CROSSSLOT, the command runs here.
        List<List<Object>> local = List.of(
                List.of("AI.SCRIPTEXECUTE", m, "f", "INPUTS", 1, tag + "a", "ARGS", 2, other, "x", "OUTPUTS", 1,
                        tag + "o", "TIMEOUT", 5),
                List.of("AI.SCRIPTRUN", m, "f", "INPUTS", tag + "a", "OUTPUTS", tag + "o", "TIMEOUT", 5),
                List.of("AI.MODELEXECUTE", m, "INPUTS", 1, tag + "a", "OUTPUTS", 1, tag + "o", "TIMEOUT", 5));
        for (List<Object> command : local) {
            assertThat(onFirstShard(command.toArray())).as(command.toString()).isEqualTo(new RespError(
                    command.get(0).equals("AI.MODELEXECUTE") ? "ERR model key is empty" : "ERR script key is empty"));
        }
        assertThat(onFirstShard("AI.TENSORSET", m, "INT8", 1)).isEqualTo(new RespSimple("OK"));
    }
}
