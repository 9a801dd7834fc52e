package io.smartsim.launch.util;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** The last lines of a log file, for error messages. */
public final class LogTail {
    private LogTail() {
    }

    public static List<String> lines(Path file, int max) {
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = f.length();
            int n = (int) Math.min(len, 16 * 1024);
            byte[] buf = new byte[n];
            f.seek(len - n);
            f.readFully(buf);
            List<String> all = Arrays.stream(new String(buf, StandardCharsets.UTF_8).split("\n"))
                    .filter(s -> !s.isBlank()).toList();
            return all.subList(Math.max(0, all.size() - max), all.size());
        } catch (IOException e) {
            return List.of("(could not read " + file + ": " + e.getMessage() + ")");
        }
    }

    /** Indented block for a message, or a note that the log is empty. */
    public static String block(Path file, int max) {
        List<String> l = lines(file, max);
        if (l.isEmpty()) {
            return "  (" + file + " is empty or missing)";
        }
        return "  last lines of " + file + ":\n    " + String.join("\n    ", l);
    }
}
