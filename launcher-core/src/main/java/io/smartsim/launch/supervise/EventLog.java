package io.smartsim.launch.supervise;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.smartsim.launch.status.Event;
import io.smartsim.launch.spec.Json;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * An orchestrator's events log: {@code <experiment dir>/<id>/events.jsonl}, one JSON object per line
 * ({@code {"time":"2026-11-25T21:00:00.123Z","orchestrator":"db","type":"shard-down","shard":1,"detail":"..."}}),
 * appended by whoever sees the transition: the experiment, the watchdog, and the lease guards next to the shards
 * (which write the same shape from the shell). Each line is written with one {@code O_APPEND} write, so writers in
 * different processes do not interleave within a line. Reading skips lines it cannot parse (a line cut off by a
 * crash) rather than failing a status.
 *
 * <p><b>Rotation.</b> A line that would take the file past {@link #MAX_BYTES} first renames it to
 * {@code events.jsonl.1} (replacing the previous one), so the log takes at most about twice that on disk however long
 * a campaign runs. {@link #read} reads the kept files oldest first, so a reader sees one log across the boundary.
 * Java writers and readers hold a lock while they check the size, rotate, append or read: the monitor of this JVM
 * and an advisory lock on {@code events.jsonl.lock} across processes (the CLI, the watchdog, {@code db status}).
 * The lease guards write from bash without the lock (a builtin cannot take one): a guard's line that races a
 * rotation lands in {@code events.jsonl.1}, which is read too. A log whose lock cannot be had within
 * {@link #LOCK_WAIT_MILLIS} (a file system without locks) is appended to without rotating: never lost, only unbounded.
 */
public final class EventLog {
    public static final String FILE = "events.jsonl";
    /** The size at which {@link #FILE} is renamed to {@code events.jsonl.1}. */
    public static final long MAX_BYTES = 1L << 20;
    /** How many rotated files are kept: {@code events.jsonl.1} only. */
    public static final int KEEP = 1;
    /** The lock file beside the log (empty; its advisory lock is what counts). */
    public static final String LOCK = FILE + ".lock";
    static final long LOCK_WAIT_MILLIS = 2000;

    /** One monitor per log file in this JVM: a file lock is held per process, not per thread. */
    private static final ConcurrentMap<Path, Object> MONITORS = new ConcurrentHashMap<>();

    private final Path file;
    private final long maxBytes;
    private final int keep;

    public EventLog(Path file) {
        this(file, MAX_BYTES, KEEP);
    }

    /** With another rotation size and number of kept files (tests). */
    EventLog(Path file, long maxBytes, int keep) {
        if (maxBytes < 1 || keep < 1) {
            throw new IllegalArgumentException("maxBytes " + maxBytes + " and keep " + keep + " must be positive");
        }
        this.file = file;
        this.maxBytes = maxBytes;
        this.keep = keep;
    }

    /** The log of the orchestrator whose directory is {@code orchestratorDir}. */
    public static EventLog in(Path orchestratorDir) {
        return new EventLog(orchestratorDir.resolve(FILE));
    }

    public Path file() {
        return file;
    }

    /** Rotated file {@code n} (1 is the most recent): {@code events.jsonl.n}. */
    public Path rotated(int n) {
        return file.resolveSibling(file.getFileName() + "." + n);
    }

    /** The files {@link #read} covers, oldest first: {@code events.jsonl.1} (and older ones if kept), then the log. */
    public List<Path> files() {
        List<Path> out = new ArrayList<>();
        for (int n = keep; n >= 1; n--) {
            out.add(rotated(n));
        }
        out.add(file);
        return out;
    }

    /** Appends {@code e}; a log that cannot be written is not worth failing a restart or a stop for. */
    public void append(Event e) {
        byte[] line;
        try {
            line = (Json.mapper().writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(e)
                    + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException ex) {
            System.err.println("smartsim-launch: cannot write event " + e + ": " + ex.getMessage());
            return;
        }
        // A watchdog being closed is interrupted and still logs its exit: an interrupt would close the channels
        // below (ClosedByInterruptException), so it is put aside for this short, bounded write and restored after.
        boolean interrupted = Thread.interrupted();
        try {
            Files.createDirectories(file.getParent());
            synchronized (monitor()) {
                try (Locked locked = lock(true)) {
                    if (locked.held()) {
                        rotateFor(line.length);
                    }
                    try (FileOutputStream out = new FileOutputStream(file.toFile(), true)) {
                        out.write(line); // O_APPEND, the whole line in one write(2)
                    }
                }
            }
        } catch (IOException ex) {
            System.err.println("smartsim-launch: cannot append to the events log " + file + ": " + ex.getMessage());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Renames the log (and the kept older files one step along) when {@code bytes} more would pass the size. */
    private void rotateFor(int bytes) throws IOException {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException none) {
            return;
        }
        if (size == 0 || size + bytes <= maxBytes) {
            return;
        }
        for (int n = keep - 1; n >= 1; n--) {
            if (Files.exists(rotated(n))) {
                Files.move(rotated(n), rotated(n + 1), StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            }
        }
        Files.move(file, rotated(1), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Every event kept ({@link #files}), oldest first; empty when there is no log yet. */
    public List<Event> read() {
        return read(Integer.MAX_VALUE);
    }

    /**
     * The last {@code n} events, oldest first: from the current file alone when it holds that many, else from every
     * kept file.
     */
    public List<Event> recent(int n) {
        List<Event> all = read(n);
        return all.subList(Math.max(0, all.size() - n), all.size());
    }

    /** The events of the newest files that hold at least {@code enough} of them (all files if none do). */
    private List<Event> read(int enough) {
        if (files().stream().noneMatch(Files::exists)) {
            return List.of();
        }
        List<Event> out = new ArrayList<>();
        boolean interrupted = Thread.interrupted(); // as in append: a short, bounded read
        try {
            synchronized (monitor()) {
                try (Locked locked = lock(false)) {
                    List<Path> newestFirst = new ArrayList<>(files());
                    java.util.Collections.reverse(newestFirst);
                    for (Path p : newestFirst) {
                        try {
                            out.addAll(0, parse(Files.readAllLines(p, StandardCharsets.UTF_8)));
                        } catch (IOException e) {
                            // not there (never rotated), or unreadable: the others still count
                        }
                        if (out.size() >= enough) {
                            break;
                        }
                    }
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        return out;
    }

    private static List<Event> parse(List<String> lines) {
        List<Event> out = new ArrayList<>();
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(Json.mapper().readValue(line, Event.class));
            } catch (JsonProcessingException | RuntimeException cut) {
                // a line cut short by a crash mid-write: skipped
            }
        }
        return out;
    }

    private Object monitor() {
        return MONITORS.computeIfAbsent(file.toAbsolutePath().normalize(), k -> new Object());
    }

    /**
     * The lock shared with other processes, waited for up to {@link #LOCK_WAIT_MILLIS}; not held (and nothing thrown)
     * when it cannot be had: the caller then appends without rotating, or reads as it can.
     */
    private Locked lock(boolean create) {
        Path lockFile = file.resolveSibling(LOCK);
        FileChannel ch;
        try {
            ch = create || Files.exists(lockFile)
                    ? FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)
                    : null;
        } catch (IOException | UnsupportedOperationException e) {
            ch = null; // a read-only directory: read without it
        }
        if (ch == null) {
            return new Locked(null, null);
        }
        long until = System.nanoTime() + LOCK_WAIT_MILLIS * 1_000_000;
        try {
            while (true) {
                FileLock l = ch.tryLock();
                if (l != null) {
                    return new Locked(ch, l);
                }
                if (System.nanoTime() >= until) {
                    break;
                }
                Thread.sleep(2);
            }
        } catch (IOException | OverlappingFileLockException e) {
            // no locks on this file system, or the same file under another name locked in this JVM
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // seen by the caller, which restores its own
        }
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing held
        }
        return new Locked(null, null);
    }

    /** A lock that may not be held; closing releases it and its channel. */
    private record Locked(FileChannel channel, FileLock lock) implements AutoCloseable {
        boolean held() {
            return lock != null;
        }

        @Override
        public void close() {
            Optional.ofNullable(channel).ifPresent(c -> {
                try {
                    c.close(); // releases the lock
                } catch (IOException ignored) {
                    // the lock goes with the channel either way
                }
            });
        }
    }
}
