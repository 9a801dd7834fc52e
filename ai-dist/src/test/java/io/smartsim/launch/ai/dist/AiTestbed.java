package io.smartsim.launch.ai.dist;

import io.smartsim.launch.AiSpec;
import io.smartsim.launch.OrchestratorSpec;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.testing.Processes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Ports and leftovers for the --ai integration tests. Ports come from 12000-12767 (bus ports +10000, the fronts'
 * servers +20000: all three below 32768, where the ephemeral port range starts), each checked free on loopback.
 */
final class AiTestbed {
    private static final AtomicInteger NEXT = new AtomicInteger(12000 + (int) (ProcessHandle.current().pid() % 50) * 10);
    final List<Integer> fronts = new ArrayList<>();
    private final AtomicInteger next;
    /** The highest base: its server port (+20000) stays below the ephemeral range (32768-60999). */
    static final int LAST = 12767;
    private final int lo;

    AiTestbed() {
        this(NEXT, 12000);
    }

    /** Ports from {@code lo} up to {@value #LAST} only (a test class of its own range). */
    AiTestbed(int lo) {
        this(new AtomicInteger(lo + (int) (ProcessHandle.current().pid() % 20) * 10), lo);
    }

    private AiTestbed(AtomicInteger next, int lo) {
        this.next = next;
        this.lo = lo;
    }

    /** A base port with {@code count} consecutive shard ports whose +10000 and +20000 are free too. */
    int ports(int count) {
        for (int attempt = 0; attempt < 100; attempt++) {
            int base = next.getAndAdd(count + 2);
            if (base + count - 1 > LAST) {
                next.set(lo);
                continue;
            }
            boolean ok = true;
            for (int p = base; p < base + count && ok; p++) {
                ok = Processes.free("127.0.0.1", p) && Processes.free("127.0.0.1", p + 10000)
                        && Processes.free("127.0.0.1", p + AiPlanner.SERVER_PORT_OFFSET);
            }
            if (ok) {
                for (int p = base; p < base + count; p++) {
                    fronts.add(p);
                }
                return base;
            }
        }
        throw new IllegalStateException("no free block of " + count + " ports in " + lo + "-" + LAST);
    }

    static OrchestratorSpec.Builder spec(int base, int shards) {
        return OrchestratorSpec.builder().port(base).instancesPerNode(shards).ai(AiSpec.of(List.of("onnx")));
    }

    /** Every port the fronts took, with their bus and server ports. */
    List<Integer> allPorts() {
        List<Integer> all = new ArrayList<>();
        for (int p : fronts) {
            all.addAll(List.of(p, p + 10000, p + AiPlanner.SERVER_PORT_OFFSET));
        }
        return all;
    }

    /** Live fronts (java ... AiServerMain --port P) on one of our ports. */
    List<String> frontsLeft() {
        return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive).map(h -> h.pid() + " " + cmdline(h.pid()))
                .filter(cl -> cl.contains(AiPlanner.MAIN))
                .filter(cl -> fronts.stream().anyMatch(p -> cl.contains("--port " + p + " ")))
                .toList();
    }

    static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"))).replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    /** Asserts no front, no redis-server and no bound port is left; kills what is (after noting it) first. */
    void nothingLeftBehind() {
        List<String> fronts = frontsLeft();
        List<String> servers = Processes.serversOn(allPorts());
        for (String f : fronts) {
            ProcessHandle.of(Long.parseLong(f.substring(0, f.indexOf(' ')))).ifPresent(ProcessHandle::destroyForcibly);
        }
        Processes.killServersOn(allPorts());
        assertThat(fronts).as("fronts left behind").isEmpty();
        assertThat(servers).as("redis-server processes left behind").isEmpty();
        for (int p : allPorts()) {
            assertThat(Processes.free("127.0.0.1", p)).as("port %d free", p).isTrue();
        }
    }
}
