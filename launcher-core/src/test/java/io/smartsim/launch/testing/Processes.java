package io.smartsim.launch.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** What integration tests need to prove that nothing is left behind: servers by port, free ports. */
public final class Processes {
    private static final AtomicInteger NEXT = new AtomicInteger(20000 + (int) (ProcessHandle.current().pid() % 200) * 100);

    private Processes() {
    }

    /** A base port with {@code count} consecutive ports (and their +10000 bus ports) free on loopback. */
    public static int freeBase(int count) {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = NEXT.getAndAdd(count + 5);
            if (base + count + 10000 > 65535) {
                NEXT.set(20000);
                continue;
            }
            boolean ok = true;
            for (int p = base; p < base + count && ok; p++) {
                ok = free("127.0.0.1", p) && free("127.0.0.1", p + 10000);
            }
            if (ok) {
                return base;
            }
        }
        throw new IllegalStateException("no free port range of " + count);
    }

    public static boolean free(String host, int port) {
        try (ServerSocket ss = new ServerSocket()) {
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress(InetAddress.getByName(host), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Live redis-server / keydb-server processes serving one of these ports. Redis rewrites its process title
     * to {@code redis-server 127.0.0.1:PORT [cluster]}, so the port shows in the command line.
     */
    public static List<String> serversOn(List<Integer> ports) {
        return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
                .map(h -> h.pid() + " " + cmdline(h.pid()))
                .filter(cl -> cl.contains("redis-server") || cl.contains("keydb-server"))
                .filter(cl -> ports.stream().anyMatch(p -> cl.matches("(?s).*:" + p + "\\b.*")))
                .toList();
    }

    private static String cmdline(long pid) {
        try {
            return new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/" + pid + "/cmdline")))
                    .replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    /** Kills whatever {@link #serversOn} finds: the cleanup of last resort after a failed test. */
    public static void killServersOn(List<Integer> ports) {
        for (String line : serversOn(ports)) {
            long pid = Long.parseLong(line.substring(0, line.indexOf(' ')));
            ProcessHandle.of(pid).ifPresent(h -> {
                h.destroyForcibly();
                h.onExit().orTimeout(Duration.ofSeconds(5).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                        .exceptionally(t -> h).join();
            });
        }
    }

    public static List<Integer> range(int base, int count) {
        return java.util.stream.IntStream.range(base, base + count).boxed().toList();
    }
}
