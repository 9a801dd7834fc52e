package io.smartsim.launch.telemetry;

import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.spec.TelemetrySpec;
import io.smartsim.launch.status.ShardSample;
import io.smartsim.launch.status.TelemetryStatus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The recorded format: {@code <expDir>/telemetry/<orchestrator>.jsonl}, one {@link ShardSample} per line, appended;
 * at {@code maxFileBytes} it is renamed {@code <orchestrator>.1.jsonl} (the older ones shift to {@code .2}, ...,
 * and the one past {@code keptFiles} is deleted). See docs/telemetry.md.
 */
public final class TelemetryFiles {
    public static final String DIR = "telemetry";
    private static final ObjectWriter LINE = Json.mapper().writer().without(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectReader READ = Json.mapper().readerFor(ShardSample.class);

    private TelemetryFiles() {
    }

    public static Path dir(Path expDir) {
        return expDir.toAbsolutePath().normalize().resolve(DIR);
    }

    /** The current file of {@code orchestrator}. */
    public static Path current(Path expDir, String orchestrator) {
        return dir(expDir).resolve(orchestrator + ".jsonl");
    }

    /** Its {@code n}-th rotated file ({@code n >= 1}; 1 is the newest). */
    public static Path rotated(Path expDir, String orchestrator, int n) {
        return dir(expDir).resolve(orchestrator + "." + n + ".jsonl");
    }

    /**
     * Every recorded sample of {@code orchestrator}, oldest first, across the rotated files. A line cut short (the
     * writer killed mid-line) is skipped.
     */
    public static List<ShardSample> read(Path expDir, String orchestrator) {
        List<Path> files = new ArrayList<>();
        for (int n = 1; Files.exists(rotated(expDir, orchestrator, n)); n++) {
            files.add(0, rotated(expDir, orchestrator, n));
        }
        files.add(current(expDir, orchestrator));
        List<ShardSample> out = new ArrayList<>();
        for (Path f : files) {
            List<String> lines;
            try {
                lines = Files.readAllLines(f, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                continue; // rotated away between the listing and the read, or nothing recorded yet
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the telemetry file " + f + ": " + e.getMessage(), e);
            }
            for (String line : lines) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    out.add(READ.readValue(line));
                } catch (IOException e) {
                    // a partial last line
                }
            }
        }
        return out;
    }

    /** How much of the end of a file {@link #latest} reads: many samples of every shard at any line length. */
    static final int TAIL_BYTES = 256 * 1024;

    /**
     * The last recorded sample of each shard of {@code orchestrator}, by shard index, read from the end of the current
     * file only (then of the newest rotated one, just after a rotation), so that it costs the same at any history
     * length. Empty when nothing was recorded.
     */
    public static java.util.SortedMap<Integer, ShardSample> latest(Path expDir, String orchestrator) {
        java.util.SortedMap<Integer, ShardSample> out = new java.util.TreeMap<>();
        for (Path f : List.of(current(expDir, orchestrator), rotated(expDir, orchestrator, 1))) {
            for (String line : tail(f)) {
                try {
                    ShardSample s = READ.readValue(line);
                    out.merge(s.shard(), s, (a, b) -> b.time().isAfter(a.time()) ? b : a);
                } catch (IOException e) {
                    // a partial line
                }
            }
            if (!out.isEmpty()) {
                break;
            }
        }
        return out;
    }

    /**
     * What {@code db status} shows of the collector of {@code orchestrator}: its recorded {@code --telemetry} setting
     * ({@code spec}), its current file, and each shard's last recorded sample ({@link #latest}).
     */
    public static TelemetryStatus status(Path expDir, String orchestrator, TelemetrySpec spec) {
        return new TelemetryStatus(spec.on(), spec.interval(), current(expDir, orchestrator),
                List.copyOf(latest(expDir, orchestrator).values()));
    }

    /** The whole lines in the last {@link #TAIL_BYTES} of {@code f}; none when it does not exist. */
    private static List<String> tail(Path f) {
        try (java.nio.channels.SeekableByteChannel ch = Files.newByteChannel(f)) {
            long size = ch.size();
            long from = Math.max(0, size - TAIL_BYTES);
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) (size - from));
            ch.position(from);
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // read on
            }
            List<String> lines = new ArrayList<>(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8)
                    .lines().filter(l -> !l.isBlank()).toList());
            if (from > 0 && !lines.isEmpty()) {
                lines.remove(0); // begins mid-line
            }
            return lines;
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the telemetry file " + f + ": " + e.getMessage(), e);
        }
    }

    /** One JSON line, without the newline. */
    static String line(ShardSample s) {
        try {
            return LINE.writeValueAsString(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Appends lines to one orchestrator's file and rotates it; callers serialize their calls. */
    static final class Writer {
        private final Path expDir;
        private final String orchestrator;
        private final long maxBytes;
        private final int kept;
        private long size = -1;

        Writer(Path expDir, String orchestrator, long maxBytes, int kept) {
            this.expDir = expDir;
            this.orchestrator = orchestrator;
            this.maxBytes = maxBytes;
            this.kept = kept;
        }

        void append(ShardSample s) throws IOException {
            byte[] bytes = (line(s) + "\n").getBytes(StandardCharsets.UTF_8);
            Path cur = current(expDir, orchestrator);
            if (size < 0) {
                Files.createDirectories(cur.getParent());
                size = Files.exists(cur) ? Files.size(cur) : 0;
            }
            if (size > 0 && size + bytes.length > maxBytes) {
                rotate(cur);
                size = 0;
            }
            Files.write(cur, bytes, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
            size += bytes.length;
        }

        private void rotate(Path cur) throws IOException {
            if (kept == 0) {
                Files.deleteIfExists(cur);
                return;
            }
            Files.deleteIfExists(rotated(expDir, orchestrator, kept));
            for (int n = kept - 1; n >= 1; n--) {
                Path from = rotated(expDir, orchestrator, n);
                if (Files.exists(from)) {
                    Files.move(from, rotated(expDir, orchestrator, n + 1), StandardCopyOption.REPLACE_EXISTING,
                            StandardCopyOption.ATOMIC_MOVE);
                }
            }
            Files.move(cur, rotated(expDir, orchestrator, 1), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        }
    }
}
