package io.smartsim.launch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisCluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code db start --resume} takes the recorded layout from the manifest (issue 14, point 4): the hint {@code db stop}
 * prints is run exactly as printed and brings every key back on the recorded layout (shards, replicas, checkpoint,
 * server binary); a flag given explicitly overrides the record; one that cannot resume the data is refused, naming
 * the field and the fix, with nothing started.
 *
 * <p>The server binary is a wrapper script under another name and path than {@code redis-server} (it notes its pid,
 * then execs Debian's redis-server with that name as argv[0]), so the test sees whether a resume started the recorded
 * binary: a resume that fell back to {@code redis-server} on PATH would start healthy shards the wrapper never saw.
 * KeyDB (the backend of the bug report) is not installable here; the backend field's default is covered by
 * {@code ResumeSpecTest}.
 */
class DbResumeLayoutIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final int KEYS = 2000;

    @TempDir
    Path tmp;

    private Path exp;
    private Path wrapper;
    private Path wrapperPids;
    private JarRunner jar;
    private int port;

    @BeforeEach
    void setUp() throws IOException {
        TestServers.assumeJarAndRedis();
        exp = tmp.resolve("exp");
        jar = JarRunner.in(tmp);
        wrapperPids = tmp.resolve("wrapper-pids");
        wrapper = Files.createDirectories(tmp.resolve("site/bin")).resolve("site-db-server");
        Files.writeString(wrapper, "#!/bin/sh\n"
                + "echo $$ >> '" + wrapperPids + "'\n"
                + "exec /usr/bin/redis-server \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwx------"));
        port = leftovers.shardPorts(TestServers.freeBlock(19000, 6), 6);
    }

    @AfterEach
    void cleanUp() throws Exception {
        jar.cli("db", "stop", "--exp-dir", exp.toString()); // exit 1 when it is already stopped: fine
        // Then the Leftovers check: processes by working dir, ports (bus and --ai too) on every address.
    }

    @Test
    void theHintPrintedByStopResumesTheRecordedLayoutAsPrinted() throws Exception {
        JarRunner.Result start = jar.cli("db", "start", "--exp-dir", exp.toString(), "--per-node", "3", "--replicas",
                "1", "--port", Integer.toString(port), "--checkpoint", "every=2s", "--server-binary",
                wrapper.toString());
        assertThat(start.exit()).as(start.toString()).isZero();
        assertThat(wrapperPids()).as("the first run's servers, started through the wrapper").hasSize(6);
        writeKeys(port);

        JarRunner.Result stop = jar.cli("db", "stop", "--exp-dir", exp.toString());
        assertThat(stop.exit()).as(stop.toString()).isZero();
        List<String> hint = hint(stop.err());
        assertThat(hint).as("the hint names exactly what a resume needs").containsExactly("smartsim-launch", "db",
                "start", "--resume", "--exp-dir", exp.toAbsolutePath().toString(), "--name", "orchestrator");
        Files.delete(wrapperPids);

        JarRunner.Result resume = jar.cli(hint.subList(1, hint.size()).toArray(String[]::new));
        assertThat(resume.exit()).as(resume.toString()).isZero();
        assertThat(resume.err()).contains("resuming 'orchestrator' from the data of its previous run (--checkpoint "
                + "every=2s)");
        JsonNode db = orchestrator();
        JsonNode spec = db.get("spec");
        assertThat(spec.get("instancesPerNode").asInt()).isEqualTo(3);
        assertThat(spec.get("replicas").asInt()).isEqualTo(1);
        assertThat(spec.get("port").asInt()).isEqualTo(port);
        assertThat(spec.get("checkpoint").get("kind").asText()).isEqualTo("RDB");
        assertThat(spec.get("checkpoint").get("every").asText()).isEqualTo("PT2S");
        assertThat(spec.get("serverBinary").asText()).isEqualTo(wrapper.toString());
        List<Long> pids = StreamSupport.stream(db.get("shards").spliterator(), false)
                .map(s -> s.get("pid").asLong()).toList();
        assertThat(pids).hasSize(6);
        assertThat(wrapperPids()).as("the resumed servers were started by the recorded --server-binary")
                .containsExactlyInAnyOrderElementsOf(pids);
        assertThat(DbStatusCommandRoles.of(jar, exp)).as("roles after the resume")
                .containsExactlyInAnyOrder("master", "master", "master", "slave", "slave", "slave");
        assertThat(missingKeys(port)).as("keys not back").isEmpty();
    }

    @Test
    void explicitFlagsOverrideTheRecordAndFlagsThatCannotResumeItAreRefused() throws Exception {
        JarRunner.Result start = jar.cli("db", "start", "--exp-dir", exp.toString(), "--name", "db", "--per-node",
                "3", "--port", Integer.toString(port), "--checkpoint", "every=2s", "--server-binary",
                wrapper.toString());
        assertThat(start.exit()).as(start.toString()).isZero();
        writeKeys(port);
        JarRunner.Result stop = jar.cli("db", "stop", "--exp-dir", exp.toString(), "--name", "db");
        assertThat(stop.exit()).as(stop.toString()).isZero();
        Files.delete(wrapperPids);

        JarRunner.Result layout = jar.cli("db", "start", "--resume", "--exp-dir", exp.toString(), "--name", "db",
                "--per-node", "4");
        assertThat(layout.exit()).as(layout.toString()).isEqualTo(2);
        assertThat(layout.err()).contains("error: nodes/instancesPerNode (--nodes/--per-node): the previous run of 'db' kept its data "
                + "in 3 shard(s) (1 node(s) x 3 per node) but this start plans 4 (1 x 4); each shard's data holds the "
                + "keys of its own slot range, so resume with the same layout: --nodes 1 --per-node 3, or leave "
                + "--nodes and --per-node out (a resume takes them from the record)");
        JarRunner.Result kind = jar.cli("db", "start", "--resume", "--exp-dir", exp.toString(), "--name", "db",
                "--checkpoint", "aof");
        assertThat(kind.exit()).as(kind.toString()).isEqualTo(2);
        assertThat(kind.err()).contains("error: checkpoint (--checkpoint): the previous run of 'db' kept RDB "
                + "snapshots (--checkpoint every=2s) but this start has --checkpoint aof; a shard loads only the kind "
                + "it writes, so resume with --checkpoint every=DURATION (for example every=2s), or leave "
                + "--checkpoint out (a resume takes it from the record)");
        assertThat(Files.exists(wrapperPids)).as("a refused resume starts nothing").isFalse();
        assertThat(Processes.serversUnder(tmp)).as("servers after the refused resumes").isEmpty();

        // Another port and another interval: both given, both taken; the rest (binary, layout) from the record.
        int other = otherBlock();
        leftovers.shardPorts(other, 3);
        JarRunner.Result moved = jar.cli("db", "start", "--resume", "--exp-dir", exp.toString(), "--name", "db",
                "--port", Integer.toString(other), "--checkpoint", "every=5s");
        assertThat(moved.exit()).as(moved.toString()).isZero();
        JsonNode db = orchestrator();
        assertThat(db.get("spec").get("port").asInt()).isEqualTo(other);
        assertThat(db.get("spec").get("checkpoint").get("every").asText()).isEqualTo("PT5S");
        assertThat(db.get("spec").get("instancesPerNode").asInt()).isEqualTo(3);
        assertThat(wrapperPids()).as("the resumed servers were started by the recorded --server-binary")
                .containsExactlyInAnyOrderElementsOf(StreamSupport.stream(db.get("shards").spliterator(), false)
                        .map(s -> s.get("pid").asLong()).toList());
        assertThat(missingKeys(other)).as("keys not back on the new port").isEmpty();
        JarRunner.Result stopAgain = jar.cli("db", "stop", "--exp-dir", exp.toString(), "--name", "db");
        assertThat(stopAgain.exit()).as(stopAgain.toString()).isZero();
    }

    /** The words of the "bring it back with:" hint on stderr, split as a POSIX shell splits them. */
    static List<String> hint(String err) {
        String marker = "bring it back with: ";
        String line = err.lines().filter(l -> l.contains(marker)).findFirst()
                .orElseThrow(() -> new AssertionError("no resume hint in:\n" + err));
        return ShellWords.split(line.substring(line.indexOf(marker) + marker.length()));
    }

    private List<Long> wrapperPids() throws IOException {
        return Files.exists(wrapperPids) ? Files.readAllLines(wrapperPids).stream().map(String::strip)
                .filter(s -> !s.isEmpty()).map(Long::parseLong).toList() : List.of();
    }

    private JsonNode orchestrator() throws IOException {
        return Json.mapper().readTree(exp.resolve("manifest.json").toFile()).get("orchestrators").get(0);
    }

    private JedisCluster client(int at) throws IOException {
        JsonNode auth = orchestrator().get("plan").get("auth");
        JedisClientConfig login = DefaultJedisClientConfig.builder().user(auth.get("user").asText())
                .password(auth.get("password").asText()).build();
        return new JedisCluster(Set.of(new HostAndPort("127.0.0.1", at)), login);
    }

    private void writeKeys(int at) throws IOException {
        try (JedisCluster jc = client(at)) {
            for (int i = 0; i < KEYS; i++) {
                jc.set("k" + i, "v" + i);
            }
        }
    }

    private List<Integer> missingKeys(int at) throws IOException {
        try (JedisCluster jc = client(at)) {
            return IntStream.range(0, KEYS).filter(i -> !("v" + i).equals(jc.get("k" + i))).boxed().toList();
        }
    }

    /** A base port of 3 free ports (and bus ports) that is not this test's first block. */
    private int otherBlock() {
        for (int base = port + 10; base < port + 800; base += 10) {
            int b = base;
            if (IntStream.range(0, 3).allMatch(k -> TestServers.free(b + k) && TestServers.free(b + k
                    + TestServers.BUS))) {
                return b;
            }
        }
        throw new IllegalStateException("no second free block above " + port);
    }

    /** The ROLE of every shard as {@code db status --json} reports it. */
    private static final class DbStatusCommandRoles {
        static List<String> of(JarRunner jar, Path exp) throws Exception {
            JarRunner.Result status = jar.cli("db", "status", "--exp-dir", exp.toString(), "--json");
            assertThat(status.exit()).as(status.toString()).isZero();
            JsonNode shards = Json.mapper().readTree(status.out()).get("orchestrators").get(0).get("shards");
            return StreamSupport.stream(shards.spliterator(), false).map(s -> s.get("role").asText()).toList();
        }
    }
}
