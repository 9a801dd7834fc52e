package io.smartsim.launch.ai.dist;

import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.TensorData;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.plan.Crc16;
import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Pids;
import io.smartsim.launch.testing.Processes;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

/**
 * Ports for the --ai integration tests. Ports come from 12000-12767 (bus ports +10000: both below 32768, where the
 * ephemeral port range starts), each checked free on every address (Slurm shards bind 127.0.1.x), and each recorded
 * in the test's {@link Leftovers} check, which finds what is left on any address.
 */
final class AiTestbed {
    private static final AtomicInteger NEXT = new AtomicInteger(12000 + (int) (ProcessHandle.current().pid() % 50) * 10);
    private final Leftovers leftovers;
    private final AtomicInteger next;
    /** The highest base (the range other test ports leave to these tests). */
    static final int LAST = 12767;
    /** The input the model "mlp" ({@link #runsTheModel}) is run on. */
    static final float[] X = {1, 2, 3, 4};
    private final int lo;

    AiTestbed(Leftovers leftovers) {
        this(leftovers, NEXT, 12000);
    }

    /** Ports from {@code lo} up to {@value #LAST} only (a test class of its own range). */
    AiTestbed(Leftovers leftovers, int lo) {
        this(leftovers, new AtomicInteger(lo + (int) (ProcessHandle.current().pid() % 20) * 10), lo);
    }

    private AiTestbed(Leftovers leftovers, AtomicInteger next, int lo) {
        this.leftovers = leftovers;
        this.next = next;
        this.lo = lo;
    }

    /** A base of {@code count} consecutive shard ports whose +10000 are free too, on every address. */
    int ports(int count) {
        for (int attempt = 0; attempt < 100; attempt++) {
            int base = next.getAndAdd(count + 2);
            if (base + count - 1 > LAST) {
                next.set(lo);
                continue;
            }
            boolean ok = true;
            for (int p = base; p < base + count && ok; p++) {
                ok = Processes.free("0.0.0.0", p) && Processes.free("0.0.0.0", p + 10000);
            }
            if (ok) {
                return leftovers.shardPorts(base, count); // each with its bus port (+10000)
            }
        }
        throw new IllegalStateException("no free block of " + count + " ports in " + lo + "-" + LAST);
    }

    static OrchestratorSpec.Builder spec(int base, int shards) {
        return OrchestratorSpec.builder().port(base).instancesPerNode(shards).ai(AiSpec.of(List.of("onnx")));
    }

    static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"))).replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    /** A key whose slot shard {@code i} of {@code db} serves: what a client's command on that shard starts from. */
    static String keyOn(Orchestrator db, int i, String prefix) {
        for (int n = 0; ; n++) {
            String k = prefix + n;
            int slot = Crc16.slot(k);
            if (db.plan().shards().get(i).slots().stream().anyMatch(r -> r.contains(slot))) {
                return k;
            }
        }
    }

    /** Stores {@link #X} at {@code in}, runs the model "mlp" on it into {@code out}, and checks what it returns. */
    static void runsTheModel(Client c, String in, String out) {
        c.putTensor(in, TensorData.of(X, 1, 4));
        c.runModel("mlp", List.of(in), List.of(out));
        assertThat(c.getTensor(out).asFloats()).containsExactly(AiOrchestratorIT.expected(X, 1), offset(1e-5f));
    }

    /** The pid of the shard's server, as recorded. */
    static long pid(LaunchedShard s) {
        return Long.parseLong(s.handle().get(AiPlanner.HANDLE_PID));
    }

    /** Waits (30 s at most) for {@code pid} to end, and fails naming it if it still runs. */
    static void awaitGone(long pid) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (Pids.running(pid) && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertThat(Pids.running(pid)).as("pid %d (%s) still runs", pid, cmdline(pid)).isFalse();
    }

    /**
     * The launcher jar (cli/target/smartsim-launch.jar, as users run it) with {@code args}, started in {@code dir}: its
     * output in {@code name.out} and {@code name.err}, this build's AI directory as its {@code SMARTSIM_AI_PATH}.
     */
    static Process jar(Path dir, Path name, String... args) throws IOException {
        Path jar = Path.of("../cli/target/smartsim-launch.jar").toAbsolutePath().normalize();
        assertThat(jar).isRegularFile();
        List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString()));
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile())
                .redirectOutput(Path.of(name + ".out").toFile()).redirectError(Path.of(name + ".err").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("SMARTSIM_AI_PATH", System.getProperty("smartsim.ai.path"));
        return pb.start();
    }

    /** Waits (120 s at most: a watchdog's next check, then a model server's start) for an event of {@code type}. */
    static void awaitEvent(Path orchestratorDir, String type) throws InterruptedException {
        io.smartsim.launch.supervise.EventLog events = io.smartsim.launch.supervise.EventLog.in(orchestratorDir);
        long until = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (events.read().stream().noneMatch(e -> e.type().equals(type)) && System.nanoTime() < until) {
            Thread.sleep(50);
        }
        assertThat(events.read()).as("events of %s", orchestratorDir).anyMatch(e -> e.type().equals(type));
    }

    /** The processes of this machine (every testbed host's) running a model server of {@code socket}. */
    static List<String> modelServersOf(Path socket) {
        return ProcessHandle.allProcesses().filter(h -> Pids.running(h.pid())).map(h -> cmdline(h.pid()))
                .filter(c -> c.contains(AiPlanner.MODEL_SERVER_MAIN) && c.contains("--socket " + socket + " "))
                .toList();
    }

    /** redis-cli -c (follows MOVED) at host:port; {@code stdin} as its last argument with -x when not null. */
    static String redisCli(String host, int port, Path stdin, String... args) throws Exception {
        return redisCli(List.of(), host, port, stdin, args);
    }

    /** As above, with {@code options} (TLS ones, say) before the rest. */
    static String redisCli(List<String> options, String host, int port, Path stdin, String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("redis-cli"));
        argv.addAll(options);
        argv.addAll(List.of("-c", "-h", host, "-p", Integer.toString(port)));
        if (stdin != null) {
            argv.add("-x");
        }
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectInput(stdin != null
                ? ProcessBuilder.Redirect.from(stdin.toFile()) : ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
