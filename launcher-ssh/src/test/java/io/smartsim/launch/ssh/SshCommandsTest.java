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
    void startTakesTheBinaryThenSevenArgumentsPerShardAndIsSentQuotedOnce() {
        List<String> argv = SshCommands.start("redis-server", List.of(
                new SshCommands.Start("/exp/db/db_0", "/exp/db/db_0/redis.conf", "/exp/db/db_0/db_0.out",
                        "/exp/db/db_0/nodes-6780.conf", "/exp/db/db_0/db_0.log", "10.0.0.1", "db_0:6780"),
                new SshCommands.Start("/exp dir/db/db_1", "/exp dir/db/db_1/redis.conf", "/exp dir/db/db_1/db_1.out",
                        "/exp dir/db/db_1/nodes-6781.conf", "/exp dir/db/db_1/db_1.log", "", "db_1:6781")));
        assertThat(argv).hasSize(5 + 14);
        assertThat(argv.subList(0, 5)).containsExactly("sh", "-c", SshCommands.START_SCRIPT, "sh", "redis-server");
        String line = Shell.command(argv, Map.of());
        assertThat(line).startsWith("sh -c 'bin=$1; shift\n");
        assertThat(line).endsWith(" sh redis-server /exp/db/db_0 /exp/db/db_0/redis.conf /exp/db/db_0/db_0.out "
                + "/exp/db/db_0/nodes-6780.conf /exp/db/db_0/db_0.log 10.0.0.1 db_0:6780 '/exp dir/db/db_1' "
                + "'/exp dir/db/db_1/redis.conf' '/exp dir/db/db_1/db_1.out' '/exp dir/db/db_1/nodes-6781.conf' "
                + "'/exp dir/db/db_1/db_1.log' '' db_1:6781");
        assertThat(SshCommands.START_SCRIPT).contains("SMARTSIM_LAUNCH_SHARD=\"$7\" nohup $detach \"$bin\"");
        assertThat(SshCommands.marker("db_1", 6781)).isEqualTo("db_1:6781");
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
        assertThat(SshCommands.shardPs(List.of(12L, 345L))).containsExactly("sh", "-c", SshCommands.SHARD_PS_SCRIPT,
                "sh", "12,345", "12/environ", "345/environ");
        assertThat(SshCommands.killShards("TERM", List.of(12L, 345L))).containsExactly("sh", "-c",
                SshCommands.KILL_SHARDS_SCRIPT, "sh", "TERM", "12", "345");
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
        SshCommands.Ps parsed = SshCommands.Ps.parse(ps + "--\n--\n" + ps);
        List<io.smartsim.launch.spi.LaunchedShard> shards = List.of(shard(0, 6780, 81234, "81301"),
                shard(1, 6781, 81235, "81302"), shard(2, 6782, 81236, "81303"), shard(3, 6783, 81237, "81304"));
        // 1: its guard's pid is gone; 2: its guard's pid now runs something else; 3: its server is gone too
        assertThat(SshCommands.missingGuards(parsed, shards, "leaseGuardPid")).containsExactly(1, 2);
        assertThat(SshCommands.isGuardOf("/bin/bash /exp/db/lease-guard.sh 81234 0", 81234, 0)).isTrue();
        assertThat(SshCommands.isGuardOf("/bin/bash /exp/db/lease-guard.sh 81234 0", 81234, 1)).isFalse();
        assertThat(SshCommands.isGuardOf("/bin/bash /exp/db/lease-guard.sh 181234 0", 81234, 0)).isFalse();
    }

    /**
     * Captured shardPs output (procps-ng 4.0.2, GNU grep 3.8) of a host with six shards: 0 titled; 1 still its start
     * chain (a wrapper script before it execs redis-server); 2's pid reused by a process that is no start chain; 3's pid
     * reused by another shard's chain; 4 gone by the last ps (its marker read just before it exited); 5 set its title
     * between the first ps and the environment read (Redis blanks its environment then), seen by the last ps.
     */
    @Test
    void aShardIsItsTitledServerOrItsStartChainCarryingItsMarkerNeverAnotherProcess() {
        String first = "  81234 redis-server 127.0.1.1:6780 [cluster]\n"
                + "  81235 /bin/sh /exp/bin/redis-server /exp/db/db_1/redis.conf --cluster-announce-ip 127.0.1.1\n"
                + "  81236 /usr/bin/python3 app.py\n"
                + "  81237 /bin/sh /exp/bin/redis-server /exp/db/db_0/redis.conf\n"
                + "  81238 /usr/bin/redis-server /exp/db/db_4/redis.conf\n"
                + "  81239 /usr/bin/redis-server /exp/db/db_5/redis.conf\n";
        String env = "81235/environ:SMARTSIM_LAUNCH_SHARD=db_1:6781\n"
                + "81237/environ:SMARTSIM_LAUNCH_SHARD=db_0:6780\n"
                + "81238/environ:SMARTSIM_LAUNCH_SHARD=db_4:6784\n";
        String last = "  81234 redis-server 127.0.1.1:6780 [cluster]\n"
                + "  81235 /bin/sh /exp/bin/redis-server /exp/db/db_1/redis.conf --cluster-announce-ip 127.0.1.1\n"
                + "  81236 /usr/bin/python3 app.py\n"
                + "  81237 /bin/sh /exp/bin/redis-server /exp/db/db_0/redis.conf\n"
                + "  81239 redis-server 127.0.1.1:6785 [cluster]\n";
        SshCommands.Ps ps = SshCommands.Ps.parse(first + "--\n" + env + "--\n" + last);
        assertThat(ps.args()).containsOnlyKeys(81234L, 81235L, 81236L, 81237L, 81239L);
        assertThat(ps.markers()).containsEntry(81235L, "db_1:6781").containsEntry(81237L, "db_0:6780");
        assertThat(ps.isShard(shard(0, 6780, 81234, "1"))).as("titled").isTrue();
        assertThat(ps.isShard(shard(1, 6781, 81235, "1"))).as("its start chain").isTrue();
        assertThat(ps.isShard(shard(2, 6782, 81236, "1"))).as("pid reused").isFalse();
        assertThat(ps.isShard(shard(3, 6783, 81237, "1"))).as("pid reused by another shard's chain").isFalse();
        assertThat(ps.isShard(shard(4, 6784, 81238, "1"))).as("gone").isFalse();
        assertThat(ps.isShard(shard(5, 6785, 81239, "1"))).as("titled while its environment was read").isTrue();
        // The forked shell before its first exec shows the start script's arguments, which name its marker.
        SshCommands.Ps forked = SshCommands.Ps.parse("  81240 sh -c bin=$1; shift?umask 077 sh /x/redis-server /exp/db/db_6 "
                + "/exp/db/db_6/redis.conf /exp/db/db_6/db_6.out /exp/db/db_6/nodes-6786.conf /exp/db/db_6/db_6.log  "
                + "db_6:6786\n--\n--\n  81240 nohup setsid /x/redis-server /exp/db/db_6/redis.conf\n");
        assertThat(forked.isShard(shard(6, 6786, 81240, "1"))).isTrue();
        assertThat(SshCommands.Ps.parse("").args()).isEmpty();
        assertThat(SshCommands.Ps.parse(last).args()).as("not the script's output: nothing judged alive").isEmpty();
    }

    /**
     * The start, probe and kill scripts as a host's sh runs them, here: a server binary that is a wrapper script still
     * sleeping before it would exec the server is the shard (its marker, no title yet); the kill ends it and what it
     * started (its process group), and an unrelated live process with a wrong marker is refused.
     */
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aServerStillBeingStartedIsKnownByItsMarkerAndItsKillEndsItsWholeGroup(@TempDir Path dir) throws Exception {
        Path shim = dir.resolve("slow-server");
        Files.writeString(shim, "#!/bin/sh\nsleep 60\nexec /bin/true \"$@\"\n");
        shim.toFile().setExecutable(true);
        List<SshCommands.Start> starts = List.of(new SshCommands.Start(dir.toString(), dir.resolve("db_0.conf")
                .toString(), dir.resolve("db_0.out").toString(), dir.resolve("nodes.conf").toString(),
                dir.resolve("db_0.log").toString(), "", SshCommands.marker("db_0", 16780)));
        long pid = Long.parseLong(run(SshCommands.start(shim.toString(), starts)).strip());
        ProcessHandle server = ProcessHandle.of(pid).orElseThrow();
        List<ProcessHandle> group = new java.util.ArrayList<>();
        try {
            // Wait (bounded) until the wrapper has started its sleep: then it is mid-way, before any exec of a server.
            long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (server.descendants().findAny().isEmpty() && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            group.addAll(server.descendants().toList());
            assertThat(group).as("the wrapper's sleep").isNotEmpty();
            SshCommands.Ps ps = SshCommands.Ps.parse(run(SshCommands.shardPs(List.of(pid))));
            assertThat(ps.args().get(pid)).contains("slow-server").doesNotContain(":16780");
            assertThat(ps.isShard(shard(0, 16780, pid, "1"))).as(ps.toString()).isTrue();
            assertThat(ps.isShard(new io.smartsim.launch.spi.LaunchedShard(0, "db_1", "127.0.0.1", 16781,
                    java.util.Optional.of(pid), java.util.Optional.empty(), Map.of()))).isFalse();

            run(SshCommands.killShards("TERM", List.of(pid)));
            group.add(server);
            for (ProcessHandle p : group) {
                p.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
            }
            assertThat(SshCommands.Ps.parse(run(SshCommands.shardPs(List.of(pid)))).isShard(shard(0, 16780, pid, "1")))
                    .isFalse();
        } finally {
            group.forEach(ProcessHandle::destroyForcibly); // reparented once the wrapper is gone: not its descendants
            server.descendants().forEach(ProcessHandle::destroyForcibly);
            server.destroyForcibly();
        }
    }

    private static String run(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    private static io.smartsim.launch.spi.LaunchedShard shard(int index, int port, long pid, String guard) {
        return new io.smartsim.launch.spi.LaunchedShard(index, "db_" + index, "127.0.1.1", port,
                java.util.Optional.of(pid), java.util.Optional.empty(), Map.of("leaseGuardPid", guard));
    }

    /** A model server is known by its main class and its own socket: another orchestrator's socket is not it. */
    @Test
    void aModelServerIsKnownByItsMainClassAndItsSocket() {
        String main = io.smartsim.launch.plan.AiPlanner.MODEL_SERVER_MAIN;
        String args = "/usr/bin/java -XX:+ExitOnOutOfMemoryError -cp /opt/ai/* " + main
                + " --socket /exp/db/ai/model-server-1.sock --backends ONNX";
        assertThat(SshCommands.isModelServer(args, main, "/exp/db/ai/model-server-1.sock")).isTrue();
        assertThat(SshCommands.isModelServer("nohup setsid " + args, main, "/exp/db/ai/model-server-1.sock")).isTrue();
        assertThat(SshCommands.isModelServer(args, main, "/exp/db/ai/model-server-1")).isFalse();
        assertThat(SshCommands.isModelServer(args, main, "/exp/db/ai/model-server-2.sock")).isFalse();
        assertThat(SshCommands.isModelServer("redis-server 127.0.1.1:6780 --socket /exp/db/ai/model-server-1.sock",
                main, "/exp/db/ai/model-server-1.sock")).isFalse();
    }

    /** The scripts as a host's sh runs them: what is missing is listed; only a private socket dir is removed. */
    @Test
    void missingListsAbsentPathsAndRemoveSocketKeepsAnExperimentsDirectory(@TempDir Path dir) throws Exception {
        Path jar = Files.writeString(dir.resolve("a.jar"), "");
        assertThat(run(SshCommands.missing(List.of("/bin/sh", jar.toString(), dir.resolve("none").toString()))))
                .isEqualTo(dir.resolve("none") + "\n");
        assertThat(run(SshCommands.missing(List.of(jar.toString())))).as("not executable").isEqualTo(jar + "\n");
        Path sock = Files.writeString(dir.resolve("model-server-0.sock"), "");
        assertThat(run(SshCommands.removeSocket(sock.toString()))).isEmpty();
        assertThat(sock).doesNotExist();
        assertThat(dir).exists();
    }
}
