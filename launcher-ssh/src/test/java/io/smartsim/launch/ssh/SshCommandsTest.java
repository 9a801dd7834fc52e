package io.smartsim.launch.ssh;

import io.smartsim.launch.script.Shell;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SshCommandsTest {
    @Test
    void startTakesTheBinaryThenFiveArgumentsPerShardAndIsSentQuotedOnce() {
        List<String> argv = SshCommands.start("redis-server", List.of(
                new SshCommands.Start("/exp/db/db_0", "/exp/db/db_0/redis.conf", "/exp/db/db_0/db_0.out",
                        "/exp/db/db_0/nodes-6780.conf", "/exp/db/db_0/db_0.log", "10.0.0.1"),
                new SshCommands.Start("/exp dir/db/db_1", "/exp dir/db/db_1/redis.conf", "/exp dir/db/db_1/db_1.out",
                        "/exp dir/db/db_1/nodes-6781.conf", "/exp dir/db/db_1/db_1.log", "")));
        assertThat(argv).hasSize(5 + 12);
        assertThat(argv.subList(0, 5)).containsExactly("sh", "-c", SshCommands.START_SCRIPT, "sh", "redis-server");
        String line = Shell.command(argv, Map.of());
        assertThat(line).startsWith("sh -c 'bin=$1; shift\n");
        assertThat(line).endsWith(" sh redis-server /exp/db/db_0 /exp/db/db_0/redis.conf /exp/db/db_0/db_0.out "
                + "/exp/db/db_0/nodes-6780.conf /exp/db/db_0/db_0.log 10.0.0.1 '/exp dir/db/db_1' '/exp dir/db/db_1/redis.conf' "
                + "'/exp dir/db/db_1/db_1.out' '/exp dir/db/db_1/nodes-6781.conf' '/exp dir/db/db_1/db_1.log' ''");
    }

    /** The script as a host's sh runs it: each existing file becomes NAME.1 (replacing the older), missing ones pass. */
    @Test
    void keepPreviousKeepsEachExistingFileAsDotOne(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("db 0.log");
        Files.writeString(log, "last run\n");
        Files.writeString(dir.resolve("db 0.log.1"), "the run before\n");
        Process sh = new ProcessBuilder("sh", "-c", SshCommands.KEEP_PREVIOUS_SCRIPT, "sh", log.toString(),
                dir.resolve("missing.out").toString()).redirectErrorStream(true).start();
        String out = new String(sh.getInputStream().readAllBytes());
        assertThat(sh.waitFor()).as(out).isZero();
        assertThat(log).doesNotExist();
        assertThat(dir.resolve("db 0.log.1")).hasContent("last run");
        assertThat(dir.resolve("missing.out.1")).doesNotExist();
    }

    @Test
    void leaseGuardsStartWithOneCommandPerHostThreeArgumentsPerShard() {
        List<String> argv = SshCommands.guards("/exp dir/db/lease-guard.sh", List.of(
                new SshCommands.Guard(4242, 0, "/exp dir/db/db_0/db_0.lease.out"),
                new SshCommands.Guard(4243, 3, "/exp dir/db/db_3/db_3.lease.out")));
        assertThat(argv).startsWith("sh", "-c", SshCommands.GUARD_SCRIPT, "sh", "/exp dir/db/lease-guard.sh")
                .endsWith("4242", "0", "/exp dir/db/db_0/db_0.lease.out", "4243", "3", "/exp dir/db/db_3/db_3.lease.out");
        assertThat(SshCommands.GUARD_SCRIPT).contains("nohup $detach /bin/bash \"$g\"", "echo $!", "shift 3");
        // Only a process running the guard script is ever signalled as one (a reused pid is left alone).
        assertThat(SshCommands.isGuard("/bin/bash /exp/db/lease-guard.sh 4242 0")).isTrue();
        assertThat(SshCommands.isGuard("/usr/bin/python3 app.py")).isFalse();
    }

    @Test
    void oneProbeAndOneKillPerHost() {
        assertThat(SshCommands.ps(List.of(12L, 345L))).containsExactly("ps", "-p", "12,345", "-o", "pid=,args=");
        assertThat(SshCommands.kill("TERM", List.of(12L, 345L))).containsExactly("kill", "-s", "TERM", "12", "345");
        assertThat(SshCommands.tail("/x/y.log", 8)).containsExactly("tail", "-n", "8", "--", "/x/y.log");
    }

    @Test
    void parsesPidsAndPsOutput() {
        assertThat(SshCommands.parsePids("4242\n4243\n")).containsExactly(4242L, 4243L);
        // Captured from procps-ng 4.0.2 (Debian 12) for two shards, one of them a pid now running something else.
        String ps = "  81234 redis-server 127.0.1.1:6780 [cluster]\n  81240 /usr/bin/python3 app.py\n";
        Map<Long, String> parsed = SshCommands.parsePs(ps);
        assertThat(parsed).containsEntry(81234L, "redis-server 127.0.1.1:6780 [cluster]")
                .containsEntry(81240L, "/usr/bin/python3 app.py");
        assertThat(SshCommands.isShard(parsed.get(81234L), 6780)).isTrue();
        assertThat(SshCommands.isShard(parsed.get(81234L), 678)).isFalse();
        assertThat(SshCommands.isShard(parsed.get(81240L), 6780)).isFalse();
        assertThat(SshCommands.isShard("redis-server 127.0.1.1:6780", 6780)).isTrue();
        assertThat(SshCommands.parsePs("")).isEmpty();
    }

    /** Captured ps output of a host with three shards and their guards, after a kill -9 of shard 1's guard. */
    @Test
    void aShardWhoseGuardIsGoneOrReusedIsMissingItsGuard() {
        String ps = "  81234 redis-server 127.0.1.1:6780 [cluster]\n"
                + "  81235 redis-server 127.0.1.1:6781 [cluster]\n"
                + "  81236 redis-server 127.0.1.1:6782 [cluster]\n"
                + "  81301 /bin/bash /exp/db/lease-guard.sh 81234 0\n"
                + "  81303 /usr/bin/python3 app.py\n";
        Map<Long, String> parsed = SshCommands.parsePs(ps);
        List<io.smartsim.launch.spi.LaunchedShard> shards = List.of(shard(0, 6780, 81234, "81301"),
                shard(1, 6781, 81235, "81302"), shard(2, 6782, 81236, "81303"), shard(3, 6783, 81237, "81304"));
        // 1: its guard's pid is gone; 2: its guard's pid now runs something else; 3: its server is gone too
        assertThat(SshCommands.missingGuards(parsed, shards, "leaseGuardPid")).containsExactly(1, 2);
        assertThat(SshCommands.isGuardOf("/bin/bash /exp/db/lease-guard.sh 81234 0", 81234, 0)).isTrue();
        assertThat(SshCommands.isGuardOf("/bin/bash /exp/db/lease-guard.sh 81234 0", 81234, 1)).isFalse();
        assertThat(SshCommands.isGuardOf("/bin/bash /exp/db/lease-guard.sh 181234 0", 81234, 0)).isFalse();
    }

    private static io.smartsim.launch.spi.LaunchedShard shard(int index, int port, long pid, String guard) {
        return new io.smartsim.launch.spi.LaunchedShard(index, "db_" + index, "127.0.1.1", port,
                java.util.Optional.of(pid), java.util.Optional.empty(), Map.of("leaseGuardPid", guard));
    }
}
