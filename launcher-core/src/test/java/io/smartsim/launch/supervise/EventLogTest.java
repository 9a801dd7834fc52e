package io.smartsim.launch.supervise;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

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
}
