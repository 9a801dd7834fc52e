package io.smartsim.launch.supervise;

import io.smartsim.launch.status.Event;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class EventLogTest {
    @TempDir
    Path dir;

    @Test
    void eventsAreOneJsonLineEachAndReadBackInOrder() throws Exception {
        EventLog log = EventLog.in(dir.resolve("db"));
        assertThat(log.read()).isEmpty();
        Event a = new Event(Instant.parse("2026-11-25T21:00:00.123Z"), "db", Event.SHARD_DOWN, Optional.of(1),
                "its process is gone");
        Event b = new Event(Instant.parse("2026-11-25T21:00:01Z"), "db", Event.STOPPED, Optional.empty(), "");
        log.append(a);
        log.append(b);
        assertThat(Files.readAllLines(log.file())).containsExactly(
                "{\"time\":\"2026-11-25T21:00:00.123Z\",\"orchestrator\":\"db\",\"type\":\"shard-down\",\"shard\":1,"
                        + "\"detail\":\"its process is gone\"}",
                "{\"time\":\"2026-11-25T21:00:01Z\",\"orchestrator\":\"db\",\"type\":\"stopped\",\"shard\":null,"
                        + "\"detail\":\"\"}");
        assertThat(log.read()).containsExactly(a, b);
        assertThat(log.recent(1)).containsExactly(b);
    }

    /** The shape the lease guard writes from bash, and a line cut short by a crash, which is skipped. */
    @Test
    void readsTheGuardsLinesAndSkipsACutLine() throws Exception {
        EventLog log = EventLog.in(dir);
        Files.writeString(log.file(), "{\"time\":\"2026-11-25T21:00:05Z\",\"orchestrator\":\"db\",\"type\":"
                + "\"lease-expired\",\"shard\":2,\"detail\":\"the lease ran out at 1764104405 (Unix time) without being "
                + "renewed: sent SIGTERM to pid 42\"}\n{\"time\":\"2026-11-25T21:0", StandardOpenOption.CREATE);
        List<Event> read = log.read();
        assertThat(read).hasSize(1);
        assertThat(read.get(0).type()).isEqualTo(Event.LEASE_EXPIRED);
        assertThat(read.get(0).shard()).contains(2);
        assertThat(read.get(0).time()).isEqualTo(Instant.parse("2026-11-25T21:00:05Z"));
    }

    private static Event numbered(int i) {
        return new Event(Instant.parse("2026-11-25T21:00:00Z").plusSeconds(i), "db", Event.SHARD_DOWN, Optional.of(1),
                String.format("event %03d", i));
    }

    /** The size of one line of {@link #numbered} (all the same length); a log of {@code 8.5} of them rotates at 9. */
    private long lineBytes() throws Exception {
        EventLog scratch = EventLog.in(dir.resolve("scratch"));
        scratch.append(numbered(0));
        return Files.size(scratch.file());
    }

    private static List<String> details(List<Event> events) {
        return events.stream().map(Event::detail).toList();
    }

    private static List<String> numbers(int from, int to) {
        return IntStream.range(from, to).mapToObj(i -> String.format("event %03d", i)).toList();
    }

    /**
     * A log that holds 8 lines: the 9th renames it to events.jsonl.1. With one kept file, 30 events leave 16-23 in
     * events.jsonl.1 and 24-29 in events.jsonl; 0-15 are gone.
     */
    @Test
    void theLogIsRenamedToDotOneOnceALineWouldPassTheSizeAndReadingSpansBothFiles() throws Exception {
        long line = lineBytes();
        long max = 8 * line + line / 2;
        EventLog log = new EventLog(dir.resolve(EventLog.FILE), max, 1);
        for (int i = 0; i < 8; i++) {
            log.append(numbered(i));
        }
        assertThat(Files.readAllLines(log.file())).hasSize(8);
        assertThat(Files.size(log.file())).isEqualTo(8 * line);
        assertThat(log.rotated(1)).doesNotExist();
        log.append(numbered(8));
        assertThat(Files.readAllLines(log.rotated(1))).hasSize(8);
        assertThat(Files.readAllLines(log.file())).hasSize(1);
        assertThat(details(log.read())).isEqualTo(numbers(0, 9));

        for (int i = 9; i < 30; i++) {
            log.append(numbered(i));
        }
        assertThat(details(log.read())).as("what is kept: events.jsonl.1, then events.jsonl")
                .isEqualTo(numbers(16, 30));
        assertThat(details(log.recent(10))).as("the last 10 span the boundary").isEqualTo(numbers(20, 30));
        assertThat(details(log.recent(3))).isEqualTo(numbers(27, 30));
        assertThat(log.rotated(2)).as("one previous file only").doesNotExist();
        assertThat(Files.size(log.file())).isEqualTo(6 * line);
        assertThat(Files.size(log.rotated(1))).isEqualTo(8 * line);
        assertThat(log.files()).containsExactly(log.rotated(1), log.file());
    }

    @Test
    void withMoreFilesKeptTheOldestIsDroppedAndTheRestReadOldestFirst() throws Exception {
        long line = lineBytes();
        EventLog log = new EventLog(dir.resolve(EventLog.FILE), 8 * line + line / 2, 3);
        for (int i = 0; i < 41; i++) {
            log.append(numbered(i));
        }
        // 8 a file: 0-7 and 8-15 dropped; .3 = 16-23, .2 = 24-31, .1 = 32-39, events.jsonl = 40
        assertThat(log.rotated(3)).exists();
        assertThat(log.rotated(4)).doesNotExist();
        assertThat(details(log.read())).isEqualTo(numbers(16, 41));
    }

    @Test
    void theDefaultIsOneMebibyteAndOnePreviousFile() {
        EventLog log = EventLog.in(dir);
        assertThat(log.files()).containsExactly(dir.resolve("events.jsonl.1"), dir.resolve("events.jsonl"));
        assertThat(EventLog.MAX_BYTES).isEqualTo(1024 * 1024);
    }

    /** A line larger than the limit goes whole into a fresh file rather than being cut or refused. */
    @Test
    void aLineLargerThanTheLimitIsWrittenWhole() throws Exception {
        EventLog log = new EventLog(dir.resolve(EventLog.FILE), 100, 1);
        log.append(numbered(0));
        log.append(numbered(1));
        assertThat(details(log.read())).isEqualTo(numbers(0, 2));
        assertThat(log.rotated(1)).exists();
    }

    /**
     * Two writer processes (as the watchdog and the CLI), two threads of this one, and a bash loop appending as the
     * lease guards do (no lock), all at once, with a small size so the log rotates dozens of times meanwhile. Enough
     * files are kept that nothing may be dropped: every line must be there exactly once, whole, and each writer's
     * lines in its own order. The writers meet before their first line and again half way ({@link
     * EventLogWriter#meet}): however slowly a JVM starts, each writes its second half only once all have written
     * their first, so their lines overlap in the log, which the test checks too.
     */
    @Test
    void concurrentWritersInSeveralProcessesLoseNoLineAndTearNone() throws Exception {
        Path file = dir.resolve(EventLog.FILE);
        Path sync = Files.createDirectories(dir.resolve("sync"));
        long max = 16 * 1024;
        int keep = 200;
        int perProcess = 1500;
        int perThread = 500;
        int perShell = 300;
        List<String> tags = List.of("procA", "procB", "threadA", "threadB", "guard");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        List<Process> procs = new ArrayList<>();
        for (String tag : List.of("procA", "procB")) {
            procs.add(new ProcessBuilder(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", cp,
                    EventLogWriter.class.getName(), file.toString(), Long.toString(max), Integer.toString(keep), tag,
                    Integer.toString(perProcess), sync.toString(), String.join(",", tags)).redirectErrorStream(true)
                    .redirectOutput(dir.resolve(tag + ".out").toFile()).start());
        }
        // The guard's own printf line, in a loop, meeting the others as EventLogWriter.meet does (the same files).
        String meet = "meet() { : > \"$2/guard.$1\"; for ((w = 0; w < " + EventLogWriter.MEET_WAIT_SECONDS * 100
                + "; w++)); do n=0; for t in " + String.join(" ", tags) + "; do [ -e \"$2/$t.$1\" ] && n=$((n + 1)); "
                + "done; [ $n -eq " + tags.size() + " ] && return 0; sleep 0.01; done; echo \"guard: no $1\"; "
                + "exit 3; }; ";
        procs.add(new ProcessBuilder("/bin/bash", "-c", meet + "meet ready \"$2\"; for ((i = 0; i < " + perShell
                + "; i++)); do [ $i -eq " + perShell / 2 + " ] && meet half \"$2\"; printf "
                + "'{\"time\":\"2026-11-25T21:00:00Z\",\"orchestrator\":\"db\",\"type\":\"lease-expired\",\"shard\":2,"
                + "\"detail\":\"guard:%s\"}\\n' \"$i\" >> \"$1\"; done", "guard", file.toString(), sync.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("guard.out").toFile()).start());
        EventLog here = new EventLog(file, max, keep);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failed = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (String tag : List.of("threadA", "threadB")) {
            Thread t = new Thread(() -> {
                try {
                    EventLogWriter.write(here, tag, perThread, sync, tags);
                } catch (Exception | Error e) {
                    failed.add(e);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(120_000);
            assertThat(t.isAlive()).as("writer thread done within 120 s").isFalse();
        }
        assertThat(failed).as("writer threads' failures").isEmpty();
        for (Process p : procs) {
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(Files.readString(dir.resolve("guard.out"))).isZero();
        }
        for (String tag : List.of("procA", "procB")) {
            assertThat(Files.readString(dir.resolve(tag + ".out"))).as("writer %s's errors", tag).isEmpty();
        }

        long rotations = IntStream.rangeClosed(1, keep).filter(n -> Files.exists(here.rotated(n))).count();
        assertThat(rotations).as("the log rotated many times meanwhile").isGreaterThan(20).isLessThan(keep);
        int raw = 0;
        for (Path p : here.files()) {
            if (Files.exists(p)) {
                for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
                    raw++;
                    assertThat(line).as("a whole line in %s", p).startsWith("{\"time\":").endsWith("}");
                }
            }
        }
        List<Event> all = here.read();
        int expected = 2 * perProcess + 2 * perThread + perShell;
        assertThat(raw).isEqualTo(expected);
        assertThat(all).as("every line parses").hasSize(expected);
        Map<String, List<Integer>> byWriter = new HashMap<>();
        for (Event e : all) {
            String[] tagAndIndex = e.detail().split(":");
            byWriter.computeIfAbsent(tagAndIndex[0], k -> new ArrayList<>()).add(Integer.parseInt(tagAndIndex[1]));
        }
        Map<String, Integer> counts = Map.of("procA", perProcess, "procB", perProcess, "threadA", perThread,
                "threadB", perThread, "guard", perShell);
        assertThat(byWriter.keySet()).isEqualTo(counts.keySet());
        counts.forEach((tag, n) -> assertThat(byWriter.get(tag)).as("%s: each line once, in its order", tag)
                .isEqualTo(IntStream.range(0, n).boxed().toList()));
        // They overlapped: in the log's order, every writer's lines run from before each other's last line to after
        // each other's first one (the meeting half way makes it so; without it a slow JVM could write alone).
        Map<String, int[]> span = new HashMap<>();
        for (int i = 0; i < all.size(); i++) {
            int at = i;
            span.compute(all.get(i).detail().split(":")[0],
                    (k, v) -> v == null ? new int[] {at, at} : new int[] {v[0], at});
        }
        for (String a : tags) {
            for (String b : tags) {
                assertThat(span.get(a)[0]).as("%s's first line before %s's last", a, b).isLessThan(span.get(b)[1]);
            }
        }
    }
}
