package io.smartsim.launch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.spec.Backend;
import io.smartsim.launch.spec.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.IFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class DoctorCommandTest {
    @TempDir
    Path bin;

    /**
     * How long doctor waits for each tool's {@code --version}: long enough for the scripts below to answer on a loaded
     * machine, and what a tool that hangs costs this test.
     */
    private static final Duration VERSION_TIMEOUT = Duration.ofSeconds(5);

    /** Commands made as usual, except doctor, which looks on {@code path}. */
    private static IFactory withPath(String path) {
        return new IFactory() {
            @Override
            @SuppressWarnings("unchecked")
            public <K> K create(Class<K> cls) throws Exception {
                return cls == DoctorCommand.class ? (K) new DoctorCommand(path, VERSION_TIMEOUT)
                        : CommandLine.defaultFactory().create(cls);
            }
        };
    }

    private Path script(String name, String body) throws Exception {
        Path p = bin.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    @Test
    void nothing_on_path_exits_1_and_says_how_to_install_each_tool() throws Exception {
        Cli.Result r = Cli.run(withPath(bin.toString()), "doctor");

        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).contains(
                "  redis-server: " + Backend.REDIS.installHint() + "\n",
                "  keydb-server: " + Backend.KEYDB.installHint() + "\n",
                "  srun: apt-get install slurm-wlm",
                "  qsub: install the PBS client (OpenPBS / PBS Pro), or Debian's slurm-wlm-torque",
                "not ready: redis-server is missing");

        JsonNode json = Json.mapper().readTree(Cli.run(withPath(bin.toString()), "doctor", "--json").out());
        assertThat(json.get("ready").asBoolean()).isFalse();
        assertThat(json.get("tools")).hasSize(6);
        assertThat(json.get("tools").get(0).get("path").isNull()).isTrue();
        assertThat(json.get("launchers").toString()).contains("\"local\"");
    }

    @Test
    void versions_failures_and_hangs_are_reported_not_fatal() throws Exception {
        script("redis-server", "echo 'Redis server v=7.2.4 sha=00000000:0 malloc=libc bits=64'");
        script("qsub", "echo 'Unknown option: version' >&2; exit 2");
        // Hangs for an hour; its child would hold the output pipe.
        String hang = "sleep 3599." + ProcessHandle.current().pid();
        script("srun", hang + "; echo late");

        // Doctor returns at all only if it gave up on the hung tool: it would wait an hour otherwise. The deadline
        // turns that hang into a failure; it is no speed target.
        CompletableFuture<Cli.Result> doctor = CompletableFuture.supplyAsync(() -> Cli.run(withPath(bin.toString()),
                "doctor", "--json"));
        List<Long> left;
        try {
            assertThat(doctor).as("doctor with a tool that hangs").succeedsWithin(Duration.ofSeconds(90));
            // It kills the tool and its child (SIGKILL, which takes effect when the kernel gets to it).
            left = io.smartsim.launch.testing.Pids.stillRunningAfter(sleeping(hang), Duration.ofSeconds(30));
        } finally {
            sleeping(hang).forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
        assertThat(left).as("the hung tool's child, left behind").isEmpty();
        Cli.Result r = doctor.join();

        assertThat(r.exit()).as(r.toString()).isZero();
        JsonNode tools = Json.mapper().readTree(r.out()).get("tools");
        assertThat(tools.get(0).get("version").asText()).isEqualTo("7.2.4");
        assertThat(tools.get(0).get("path").asText()).isEqualTo(bin.resolve("redis-server").toString());
        assertThat(tools.get(3).get("detail").asText())
                .isEqualTo("'" + bin.resolve("srun") + " --version' did not finish within 5.0 s");
        assertThat(tools.get(3).get("version").isNull()).isTrue();
        assertThat(tools.get(5).get("detail").asText())
                .isEqualTo("version unknown: 'qsub --version' exited with 2 (Unknown option: version)");
    }

    /** Pids of running processes whose command line contains {@code text}; a zombie (exited, not reaped) is not one. */
    private static List<Long> sleeping(String text) {
        return ProcessHandle.allProcesses().filter(h -> h.info().commandLine().orElse("").contains(text))
                .map(ProcessHandle::pid).filter(io.smartsim.launch.testing.Pids::running).toList();
    }

    /** Debian's redis-server is a symlink to redis-check-rdb, which chooses its mode from argv[0]. */
    @Test
    void a_symlinked_redis_server_is_run_by_the_name_found_on_path() throws Exception {
        Path target = Path.of("/usr/bin/redis-check-rdb");
        assumeTrue(Files.isExecutable(target), "needs Debian's redis-server package");
        Files.createSymbolicLink(bin.resolve("redis-server"), target);

        Cli.Result r = Cli.run(withPath(bin.toString()), "doctor", "--json");

        JsonNode redis = Json.mapper().readTree(r.out()).get("tools").get(0);
        assertThat(redis.get("path").asText()).isEqualTo(bin.resolve("redis-server").toString());
        assertThat(redis.get("detail").asText()).startsWith("Redis server v=");
    }

    @Test
    void this_machine_has_redis_server() {
        TestServers.assumeRedis();

        Cli.Result r = Cli.run("doctor");

        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).containsPattern("(?m)^redis-server +/\\S*redis-server +\\d+\\.\\d+")
                .contains("launchers: ").contains("ready: redis-server found");
    }
}
