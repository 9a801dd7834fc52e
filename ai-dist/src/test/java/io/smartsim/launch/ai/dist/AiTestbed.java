package io.smartsim.launch.ai.dist;

import io.smartsim.launch.spec.AiSpec;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;


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
}
