package io.smartsim.launch.supervise;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.smartsim.launch.manifest.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * An orchestrator's events log: {@code <experiment dir>/<id>/events.jsonl}, one JSON object per line
 * ({@code {"time":"2026-11-25T21:00:00.123Z","orchestrator":"db","type":"shard-down","shard":1,"detail":"..."}}),
 * appended by whoever sees the transition: the experiment, the watchdog, and the lease guards next to the shards
 * (which write the same shape from the shell). Each line is written with one {@code O_APPEND} write, so writers in
 * different processes do not interleave within a line. Reading skips lines it cannot parse (a line cut off by a
 * crash) rather than failing a status.
 */
public final class EventLog {
    public static final String FILE = "events.jsonl";

    private final Path file;

    public EventLog(Path file) {
        this.file = file;
    }

    /** The log of the orchestrator whose directory is {@code orchestratorDir}. */
    public static EventLog in(Path orchestratorDir) {
        return new EventLog(orchestratorDir.resolve(FILE));
    }

    public Path file() {
        return file;
    }

    /** Appends {@code e}; a log that cannot be written is not worth failing a restart or a stop for. */
    public void append(Event e) {
        try {
            byte[] line = (Json.mapper().writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(e)
                    + "\n").getBytes(StandardCharsets.UTF_8);
            Files.createDirectories(file.getParent());
            Files.write(file, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException ex) {
            System.err.println("smartsim-launch: cannot append to the events log " + file + ": " + ex.getMessage());
        }
    }

    /** Every event, oldest first; empty when there is no log yet. */
    public List<Event> read() {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            return List.of();
        }
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

    /** The last {@code n} events, oldest first. */
    public List<Event> recent(int n) {
        List<Event> all = read();
        return all.subList(Math.max(0, all.size() - n), all.size());
    }
}
