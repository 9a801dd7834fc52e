package io.smartsim.launch.testing;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * The leftover check can fail: a real redis-server left listening on a shard's bus port on 127.0.1.2 (as a testbed
 * shard binds), a process left in the test's directory, a listener on a shard's {@code --ai} port, each caught (and the
 * processes killed); and as a JUnit extension it fails the test that left them, and passes one that left nothing.
 */
@TestbedLock(TestbedLock.Bed.SLURM)
class LeftoversIT {
    private static final Path REDIS = Path.of("/usr/bin/redis-server"); // never resolved: it picks its mode by name

    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // this class's own tests leave nothing either

    @TempDir
    Path tmp;
    @TempDir
    Path elsewhere;
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopWhatThisTestStarted() {
        started.forEach(Process::destroyForcibly);
        started.forEach(p -> p.onExit().orTimeout(10, TimeUnit.SECONDS).join());
    }

    private Process start(Path cwd, String... argv) throws IOException {
        Process p = new ProcessBuilder(argv).directory(cwd.toFile()).redirectErrorStream(true)
                .redirectOutput(elsewhere.resolve("out-" + started.size() + ".log").toFile()).start();
        started.add(p);
        return p;
    }

    private static void awaitListening(String host, int port, Process p) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 200);
                return;
            } catch (IOException notYet) {
                assertThat(p.isAlive()).as("process exited").isTrue();
                assertThat(System.nanoTime()).as("listening within 20 s").isLessThan(until);
                Thread.sleep(50);
            }
        }
    }

    @Test
    void aServerLeftOnABusPortOfATestbedAddressAndAProcessInTheDirAreCaughtAndKilled() throws Exception {
        assumeTrue(Files.isExecutable(REDIS), "needs redis-server at " + REDIS);
        int base = Processes.freeBase(1);
        Leftovers check = Leftovers.perTest().withGrace(Duration.ofMillis(500));
        check.shardPorts(base, 1);
        // A shard's bus port on 127.0.1.2 (where the ssh/Slurm testbeds' shards bind), started from elsewhere:
        // only the port can catch it. A check on 127.0.0.1, or on the client port alone, could not.
        Process redis = start(elsewhere, REDIS.toString(), "--port", Integer.toString(base + Leftovers.BUS_OFFSET),
                "--bind", "127.0.1.2", "--save", "", "--appendonly", "no");
        awaitListening("127.0.1.2", base + Leftovers.BUS_OFFSET, redis);
        Path run = Files.createDirectories(tmp.resolve("exp/sim"));
        Process model = start(run, "sleep", "600");
        assertThat(Processes.free("127.0.0.1", base + Leftovers.BUS_OFFSET)).as("127.0.0.1 says free: the old "
                + "check could not see it").isTrue();

        Leftovers.Found found = check.verify(List.of(tmp));

        assertThat(found.processes()).extracting(Processes.Proc::pid).containsExactly(model.pid());
        assertThat(found.listeners()).singleElement().satisfies(l -> {
            assertThat(l.port()).isEqualTo(base + Leftovers.BUS_OFFSET);
            assertThat(l.address()).isEqualTo("127.0.1.2");
            assertThat(l.holders()).singleElement().asString().startsWith(redis.pid() + " ")
                    .contains("redis-server 127.0.1.2:" + (base + Leftovers.BUS_OFFSET));
        });
        assertThat(found.toString()).contains("127.0.1.2:" + (base + Leftovers.BUS_OFFSET) + " listening held by "
                + redis.pid());
        assertThat(redis.waitFor(10, TimeUnit.SECONDS)).as("the server on the port was killed").isTrue();
        assertThat(model.waitFor(10, TimeUnit.SECONDS)).as("the process in the dir was killed").isTrue();
        assertThat(check.verify(List.of(tmp)).isEmpty()).isTrue();
    }

    @Test
    void aListenerOnABusPortIsCaughtAndNotKilledWhenItIsThisJvm() throws Exception {
        int base = Processes.freeBase(1);
        Leftovers check = Leftovers.perTest().withGrace(Duration.ofMillis(300));
        check.shardPorts(base, 1);
        try (ServerSocket listener = new ServerSocket()) {
            listener.bind(new InetSocketAddress(InetAddress.getByName("127.0.1.3"), base + Leftovers.BUS_OFFSET));
            Leftovers.Found found = check.verify(List.of());
            assertThat(found.processes()).isEmpty();
            assertThat(found.listeners()).singleElement().satisfies(l -> {
                assertThat(l.port()).isEqualTo(base + Leftovers.BUS_OFFSET);
                assertThat(l.holders()).singleElement().asString().startsWith(ProcessHandle.current().pid() + " ");
            });
        }
        assertThat(check.verify(List.of()).isEmpty()).as("closed: nothing left").isTrue();
    }

    @Test
    void aProcessNamingATokenIsCaught() throws Exception {
        // GNU sleep takes a fraction: the token is the process's own argument (as a remote command shows it).
        String token = "600." + ProcessHandle.current().pid() + System.nanoTime();
        Leftovers check = Leftovers.perTest().withGrace(Duration.ofMillis(300)).naming(token);
        Process p = start(elsewhere, "sleep", token);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Processes.naming(token).isEmpty() && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertThat(check.verify(List.of()).processes()).extracting(Processes.Proc::pid).contains(p.pid());
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("killed").isTrue();
    }

    /** As an extension: the test that leaves a process fails, naming it; the one that leaves nothing passes. */
    @Test
    void asAnExtensionItFailsTheTestThatLeftSomethingAndOnlyThatOne() {
        Events tests = EngineTestKit.engine("junit-jupiter").selectors(selectClass(Sample.class)).execute()
                .testEvents();
        tests.assertStatistics(s -> s.started(2).succeeded(1).failed(1));
        assertThat(tests.failed().stream().findFirst().orElseThrow().getTestDescriptor().getDisplayName())
                .isEqualTo("leavesASleepInItsDir()");
        assertThat(tests.failed().stream().findFirst().orElseThrow().getPayload(
                org.junit.platform.engine.TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow())
                .isInstanceOf(AssertionError.class).hasMessageContaining("left behind by Sample.leavesASleepInItsDir()")
                .hasMessageContaining("process ").hasMessageContaining("sleep 601");
        assertThat(Processes.naming("sleep 601")).as("killed by the check").noneMatch(p -> p.cwd().contains("junit"));
    }

    /**
     * New entries in the watched directory (a private one here; /tmp in real use): one whose name starts with a prefix
     * this project makes there, or one a test adds, is caught, and so is a directory registered with dir(); an entry
     * that was there before, one with another name (another run's, a shell's), one another process (not of this JVM)
     * works in, an ONNX Runtime directory no process of this JVM maps, a node file of a job that is not the test's and
     * the test's own @TempDir are not. Nothing is removed.
     */
    @Test
    void aNewEntryNamedAsThisProjectsLitterIsCaughtAndNothingElse() throws Exception {
        Path watched = Files.createDirectories(elsewhere.resolve("tmp"));
        Files.createDirectories(watched.resolve("ai-redis-before"));
        Path own = watched.resolve("onnx-py-own"); // as a @TempDir of the test: JUnit removes it after the check
        Path registered = watched.resolve("ai-redis-registered"); // registered for its processes: still litter
        Leftovers check = Leftovers.perTest().withGrace(Duration.ofMillis(300)).tmpPrefix("my-bench")
                .dir(registered).watchingTmp(watched);
        Files.createDirectories(watched.resolve("ai-redis-123"));
        Files.createFile(watched.resolve("my-bench77"));
        Files.createDirectories(own);
        Files.createDirectories(registered);
        Files.createFile(watched.resolve("lead-out-1.log"));
        Files.createDirectories(watched.resolve("junit-99"));
        Files.createDirectories(watched.resolve("onnxruntime-java123"));
        Files.createFile(watched.resolve("pbs_nodefile.999999999"));
        Path busy = Files.createDirectories(watched.resolve("torch-model-busy"));
        // A process that is not this JVM's (its parent shell exits at once, so init adopts it) works in it.
        Process sh = new ProcessBuilder("sh", "-c", "cd \"$1\" && { sleep 600 </dev/null >/dev/null 2>&1 & echo $!; }",
                "sh", busy.toString()).start();
        long other = Long.parseLong(new String(sh.getInputStream().readAllBytes()).strip());
        assertThat(sh.waitFor(10, TimeUnit.SECONDS)).isTrue();
        try {
            assertThat(ProcessHandle.current().descendants().map(ProcessHandle::pid)).doesNotContain(other);

            Leftovers.Found found = check.verify(List.of(own));

            assertThat(found.tmp()).containsExactlyInAnyOrder(watched.resolve("ai-redis-123"),
                    watched.resolve("my-bench77"), registered);
            assertThat(found.toString()).contains("new in " + watched + ": ai-redis-123 (made during the test");
            assertThat(watched.resolve("ai-redis-123")).as("reported, not removed").exists();
        } finally {
            ProcessHandle.of(other).ifPresent(h -> {
                h.destroyForcibly();
                h.onExit().orTimeout(10, TimeUnit.SECONDS).join();
            });
        }
        assertThat(check.verify(List.of(own)).tmp()).as("no longer in use by another process: the test's")
                .contains(busy);
        TmpLitter.delete(busy);
        TmpLitter.delete(watched.resolve("ai-redis-123"));
        Files.delete(watched.resolve("my-bench77"));
        Files.delete(registered);
        assertThat(check.verify(List.of(own)).isEmpty()).as("removed: nothing left").isTrue();
    }

    /**
     * A Slurm job's node file counts when Slurm says the job worked in the test's directory, and not when the job
     * worked elsewhere (another run's job): two real jobs on the Slurm testbed.
     */
    @Test
    void aNodeFileCountsWhenItsJobWorkedInTheTestsDirectory() throws Exception {
        assumeTrue(new ProcessBuilder("sh", "-c", "command -v sbatch && sinfo -h").start().waitFor() == 0,
                "needs the Slurm testbed (testbeds/slurm/up)");
        Path watched = Files.createDirectories(elsewhere.resolve("tmp"));
        Leftovers check = Leftovers.perTest().withGrace(Duration.ofMillis(300)).dir(tmp).watchingTmp(watched);
        String ours = sbatch(tmp);
        String theirs = sbatch(Path.of("/"));
        try {
            Files.createFile(watched.resolve("pbs_nodefile." + ours));
            Files.createFile(watched.resolve("pbs_nodefile." + theirs));
            assertThat(check.verify(List.of()).tmp()).containsExactly(watched.resolve("pbs_nodefile." + ours));
        } finally {
            // A testbed older than its Epilog (testbeds/slurm/up) writes the real ones in /tmp: this test's jobs',
            // removed once both jobs have ended (a job's prolog may run after the look above).
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < until) {
                Process q = new ProcessBuilder("squeue", "-h", "-j", ours + "," + theirs, "-o", "%i")
                        .redirectErrorStream(true).start();
                String listed = new String(q.getInputStream().readAllBytes()).strip();
                if (q.waitFor(30, TimeUnit.SECONDS) && q.exitValue() == 0 && listed.isEmpty()) {
                    break;
                }
                Thread.sleep(200);
            }
            for (String job : List.of(ours, theirs)) {
                Files.deleteIfExists(Path.of("/tmp/pbs_nodefile." + job));
            }
        }
    }

    private static String sbatch(Path workDir) throws Exception {
        Process p = new ProcessBuilder("sbatch", "--parsable", "--chdir=" + workDir, "--output=/dev/null", "--wrap",
                "true").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out.split(";")[0];
    }

    /** As an extension, on the real /tmp: the test that leaves a directory named as ai-server's RedisServer's fails. */
    @Test
    void asAnExtensionItFailsTheTestThatLeftSomethingInTmp() {
        try {
            Events tests = EngineTestKit.engine("junit-jupiter").selectors(selectClass(TmpSample.class)).execute()
                    .testEvents();
            tests.assertStatistics(s -> s.started(2).succeeded(1).failed(1));
            assertThat(TmpSample.left).as("the sample made its directory").isNotNull();
            assertThat(tests.failed().stream().findFirst().orElseThrow().getPayload(
                    org.junit.platform.engine.TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow())
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("left behind by TmpSample.leavesADirectoryInTmp()")
                    .hasMessageContaining("new in /tmp: " + TmpSample.left.getFileName());
        } finally {
            if (TmpSample.left != null) {
                TmpLitter.delete(TmpSample.left);
            }
        }
    }

    /** Run by the test above through the engine test kit, never on its own. */
    static class TmpSample {
        static volatile Path left;
        @RegisterExtension
        final Leftovers leftovers = Leftovers.perTest().withGrace(Duration.ofMillis(300));

        @Test
        void leavesADirectoryInTmp() throws IOException {
            left = Files.createTempDirectory(TmpLitter.TMP, "ai-redis-");
        }

        @Test
        void cleansUpWhatItMakesInTmp() throws IOException {
            TmpLitter.delete(Files.createTempDirectory(TmpLitter.TMP, "ai-redis-"));
        }
    }

    /** Run by the test above through the engine test kit, never on its own (a nested static class is not scanned). */
    static class Sample {
        @RegisterExtension
        final Leftovers leftovers = Leftovers.perTest().withGrace(Duration.ofMillis(300));
        @TempDir
        Path dir;

        @Test
        void leavesASleepInItsDir() throws IOException {
            new ProcessBuilder("sleep", "601").directory(dir.toFile()).start();
        }

        @Test
        void leavesNothing() throws Exception {
            Process p = new ProcessBuilder("true").directory(dir.toFile()).start();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
    }
}
