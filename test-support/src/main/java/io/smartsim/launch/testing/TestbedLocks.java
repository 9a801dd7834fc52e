package io.smartsim.launch.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The JUnit extension behind {@link TestbedLock}, and the lock itself ({@link #hold}).
 *
 * <p>One lock file per testbed, {@code LOCKDIR/smartsim-testbeds/BED.lock} ({@code LOCKDIR}: {@code /run/lock}, or
 * the system property {@code smartsim.test.lockdir}); a holder takes a POSIX record lock on the whole file (shared or
 * exclusive), which the kernel drops when the JVM ends, even by {@code kill -9}, so a crashed run never leaves a
 * testbed locked. Beside it each holder writes {@code BED.PID.holder} (who: the test class, the module directory,
 * since when), which a waiting JVM prints; a holder file whose process is gone is ignored and removed.
 *
 * <p>A class that needs several testbeds takes them all at once or none ({@link #holdAll}): it never sits on one while
 * it waits for another. Within one JVM the lock is re-entrant (a class holding it runs its {@code @Nested} classes).
 * A JVM that has to wait says so after half a second and every {@link #REPEAT} after, and gives up after
 * {@link #MAX_WAIT} (system property {@code smartsim.test.lockwait}, in seconds), naming the holder.
 */
public final class TestbedLocks implements BeforeAllCallback {
    /** The longest a class waits for a testbed: a whole serial run of every class that uses one, with room to spare. */
    public static final Duration MAX_WAIT = Duration.ofSeconds(Long.getLong("smartsim.test.lockwait", 3600));
    static final Duration REPEAT = Duration.ofSeconds(30);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration FIRST_SAY = Duration.ofMillis(500);
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(TestbedLocks.class);

    private static final Map<TestbedLock.Bed, Held> HELD = new EnumMap<>(TestbedLock.Bed.class);

    private static final class Held {
        final FileChannel channel;
        final FileLock lock;
        final Path holderFile;
        int count = 1;

        Held(FileChannel channel, FileLock lock, Path holderFile) {
            this.channel = channel;
            this.lock = lock;
            this.holderFile = holderFile;
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Class<?> c = context.getRequiredTestClass();
        List<TestbedLock> wanted = new ArrayList<>(AnnotationSupport.findRepeatableAnnotations(c, TestbedLock.class));
        if (wanted.isEmpty()) {
            return; // a @Nested class: its enclosing class holds the lock
        }
        List<Want> wants = wanted.stream().map(t -> new Want(t.value(), t.shared())).toList();
        AutoCloseable taken = holdAll(dir(), wants, c.getName(), MAX_WAIT, System.out);
        context.getStore(NS).put("locks", (ExtensionContext.Store.CloseableResource) taken::close);
    }

    /** One testbed a class asks for, and how. */
    record Want(TestbedLock.Bed bed, boolean shared) {
    }

    /** Where the lock files live: {@code smartsim.test.lockdir}, else {@code /run/lock} (else the temp directory). */
    static Path lockRoot() {
        String p = System.getProperty("smartsim.test.lockdir");
        if (p != null) {
            return Path.of(p);
        }
        Path run = Path.of("/run/lock");
        return Files.isDirectory(run) && Files.isWritable(run) ? run : Path.of(System.getProperty("java.io.tmpdir"));
    }

    static Path dir() throws IOException {
        Path d = lockRoot().resolve("smartsim-testbeds");
        Files.createDirectories(d);
        d.toFile().setWritable(true, false); // every user's test runs share it (as /run/lock itself is 1777)
        d.toFile().setReadable(true, false);
        d.toFile().setExecutable(true, false);
        return d;
    }

    /**
     * Takes {@code bed}'s lock for {@code who} (a test class name), waiting up to {@code maxWait} while another JVM
     * holds it, and saying so on {@code out}; closing the result releases it. Re-entrant within one JVM.
     */
    public static AutoCloseable hold(TestbedLock.Bed bed, boolean shared, String who, Duration maxWait,
            PrintStream out) throws IOException, InterruptedException {
        return hold(dir(), bed, shared, who, maxWait, out);
    }

    /** {@link #hold} with the lock files in {@code d} (a test's own directory). */
    static AutoCloseable hold(Path d, TestbedLock.Bed bed, boolean shared, String who, Duration maxWait,
            PrintStream out) throws IOException, InterruptedException {
        return holdAll(d, List.of(new Want(bed, shared)), who, maxWait, out);
    }

    /**
     * Takes every testbed of {@code wants} at once, or none: while one is held elsewhere, this JVM holds none of
     * them, so a class that needs Slurm and the ssh testbed never keeps Slurm from others while it waits for sshd.
     * Taken in {@link TestbedLock.Bed} order.
     */
    static synchronized AutoCloseable holdAll(Path d, List<Want> wants, String who, Duration maxWait,
            PrintStream out) throws IOException, InterruptedException {
        if (maxWait.compareTo(FIRST_SAY.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("a wait for a testbed of " + maxWait + " is too short to say who holds "
                    + "it: at least " + FIRST_SAY.multipliedBy(2));
        }
        List<Want> sorted = wants.stream().sorted(Comparator.comparing(Want::bed)).toList();
        long t0 = System.nanoTime();
        long until = t0 + maxWait.toNanos();
        // The first word after half a second: the holder has written who it is by then (its file follows its lock).
        long nextSay = t0 + FIRST_SAY.toNanos();
        boolean said = false;
        while (true) {
            List<AutoCloseable> taken = new ArrayList<>();
            Want missing = null;
            try {
                for (Want w : sorted) {
                    AutoCloseable a = tryHold(d, w.bed(), w.shared(), who);
                    if (a == null) {
                        missing = w;
                        break;
                    }
                    taken.add(a);
                }
            } catch (IOException | RuntimeException e) {
                closeAll(taken);
                throw e;
            }
            if (missing == null) {
                if (said) {
                    out.printf("[testbed-lock] %s has %s after waiting %d s%n", who, String.join(" and ",
                            sorted.stream().map(w -> "the " + w.bed().id() + " testbed (" + (w.shared() ? "shared"
                                    : "exclusive") + ")").toList()), seconds(System.nanoTime() - t0));
                    out.flush();
                }
                return () -> closeAll(taken);
            }
            closeAll(taken);
            long now = System.nanoTime();
            if (now - until >= 0) {
                throw new IllegalStateException("[testbed-lock] " + who + " gave up waiting for the "
                        + missing.bed().id() + " testbed after " + seconds(now - t0) + " s (smartsim.test.lockwait); "
                        + "it is held by " + holders(d, missing.bed()) + ". If no test run is going on, look for a "
                        + "stuck test JVM with that pid");
            }
            if (now - nextSay >= 0) {
                out.printf("[testbed-lock] %s %s for the %s testbed (%s), held by %s%n", who,
                        said ? "still waits, " + seconds(now - t0) + " s so far," : "waits", missing.bed().id(),
                        missing.shared() ? "shared" : "exclusive", holders(d, missing.bed()));
                out.flush();
                said = true;
                nextSay = now + REPEAT.toNanos();
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    private static void closeAll(List<AutoCloseable> taken) throws IOException {
        IOException first = null;
        for (int i = taken.size() - 1; i >= 0; i--) {
            try {
                taken.get(i).close();
            } catch (IOException e) {
                first = first == null ? e : first;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** {@code bed}'s lock if no other JVM holds it in a way that excludes {@code shared}; else null. */
    private static AutoCloseable tryHold(Path d, TestbedLock.Bed bed, boolean shared, String who) throws IOException {
        Held h = HELD.get(bed);
        if (h != null) {
            if (h.lock.isShared() && !shared) {
                throw new IllegalStateException(who + " needs the " + bed.id() + " testbed alone, but this JVM holds "
                        + "it shared (an enclosing class's @TestbedLock(shared = true)): make both exclusive");
            }
            h.count++;
            return () -> release(bed);
        }
        Path file = d.resolve(bed.id() + ".lock");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            file.toFile().setWritable(true, false);
            lock = ch.tryLock(0, Long.MAX_VALUE, shared);
            if (lock == null) {
                ch.close();
                return null;
            }
            long pid = ProcessHandle.current().pid();
            Path holder = d.resolve(bed.id() + "." + pid + ".holder");
            Files.writeString(holder, "pid " + pid + " " + who + " (" + (shared ? "shared" : "exclusive") + ", in "
                    + System.getProperty("user.dir") + ") since " + Instant.now().truncatedTo(ChronoUnit.SECONDS),
                    StandardCharsets.UTF_8);
            holder.toFile().setWritable(true, false);
            HELD.put(bed, new Held(ch, lock, holder));
        } catch (IOException | RuntimeException e) {
            ch.close(); // and the lock with it
            throw e;
        }
        return () -> release(bed);
    }

    private static synchronized void release(TestbedLock.Bed bed) throws IOException {
        Held h = HELD.get(bed);
        if (h == null || --h.count > 0) {
            return;
        }
        HELD.remove(bed);
        try {
            Files.deleteIfExists(h.holderFile); // before the unlock: a new holder's file is never removed
        } finally {
            h.lock.release();
            h.channel.close();
        }
    }

    /** Who holds {@code bed}'s lock, from the live holders' files; files of processes that are gone are removed. */
    static String holders(Path d, TestbedLock.Bed bed) {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(d, bed.id() + ".*.holder")) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                String pid = name.substring(bed.id().length() + 1, name.length() - ".holder".length());
                boolean alive;
                try {
                    alive = ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false);
                } catch (NumberFormatException e) {
                    continue;
                }
                if (!alive) {
                    Files.deleteIfExists(f);
                    continue;
                }
                try {
                    out.add(Files.readString(f, StandardCharsets.UTF_8).strip());
                } catch (IOException e) {
                    // released meanwhile
                }
            }
        } catch (IOException e) {
            return "(cannot list " + d + ": " + e.getMessage() + ")";
        }
        return out.isEmpty() ? "another process (it did not say who: not a test JVM of this project, or it is just "
                + "taking or releasing the lock)" : String.join("; ", out);
    }

    private static long seconds(long nanos) {
        return Duration.ofNanos(nanos).toSeconds();
    }
}
