package io.smartsim.launch.testing;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Ports reserved across test JVMs: a port probed free by one JVM cannot be handed to another (of a parallel build, or
 * of another worktree) between the probe and the server's bind. Port P is byte P of
 * {@code LOCKDIR/smartsim-testbeds/ports.lock}, held with a POSIX record lock: the kernel releases it when the JVM
 * ends, however it ends. A JVM keeps what it reserved until it ends, or until it gives back its old reservations
 * ({@link #releaseOlderThan}) when its own range runs out; a port it already holds is its own to hand out again.
 */
public final class PortLocks {
    private static FileChannel channel;
    private static final Map<Integer, Reserved> HELD = new HashMap<>();

    private record Reserved(FileLock lock, long since) {
    }

    private PortLocks() {
    }

    /**
     * Reserves every port of {@code ports} for this JVM, or none: false when another JVM holds one of them. Ports this
     * JVM holds already count as reserved. The result's {@link Taken#giveBack} releases only what this call took.
     */
    public static synchronized Taken reserve(Collection<Integer> ports) {
        List<Integer> taken = new ArrayList<>();
        try {
            FileChannel ch = channel();
            for (int p : ports) {
                if (HELD.containsKey(p)) {
                    continue;
                }
                FileLock l = ch.tryLock(p, 1, false);
                if (l == null) {
                    release(taken);
                    return new Taken(false, List.of());
                }
                HELD.put(p, new Reserved(l, System.nanoTime()));
                taken.add(p);
            }
        } catch (IOException e) {
            release(taken);
            throw new IllegalStateException("cannot reserve ports in " + file() + ": " + e.getMessage(), e);
        }
        return new Taken(true, List.copyOf(taken));
    }

    /** What {@link #reserve} did: whether all the ports are this JVM's now, and which of them the call took. */
    public record Taken(boolean ok, List<Integer> ports) {
        /** Gives back what the call took (the ports turned out busy, say). */
        public void giveBack() {
            synchronized (PortLocks.class) {
                release(new ArrayList<>(ports));
            }
        }
    }

    /** Whether this JVM holds {@code port}. */
    public static synchronized boolean held(int port) {
        return HELD.containsKey(port);
    }

    /**
     * Gives back this JVM's reservations older than {@code age}: for an allocator whose range ran out, so that one
     * long test JVM does not keep every port from the others. A port still in use stays busy to every probe anyway;
     * the reservation only covers the moment between a probe and a bind (and a restart on the same ports), which
     * {@code age} must exceed by far.
     */
    public static synchronized int releaseOlderThan(Duration age) {
        long now = System.nanoTime();
        List<Integer> old = HELD.entrySet().stream().filter(e -> now - e.getValue().since() > age.toNanos())
                .map(Map.Entry::getKey).toList();
        release(new ArrayList<>(old));
        return old.size();
    }

    private static void release(List<Integer> ports) {
        for (int p : ports) {
            Reserved r = HELD.remove(p);
            if (r != null) {
                try {
                    r.lock().release();
                } catch (IOException e) {
                    // the channel is gone: so is the lock
                }
            }
        }
    }

    static Path file() {
        return TestbedLocks.lockRoot().resolve("smartsim-testbeds").resolve("ports.lock");
    }

    private static FileChannel channel() throws IOException {
        if (channel == null) {
            TestbedLocks.dir();
            channel = FileChannel.open(file(), StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            file().toFile().setWritable(true, false);
        }
        return channel;
    }
}
