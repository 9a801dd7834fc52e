package io.smartsim.launch.exec;

import java.util.List;

/**
 * The outcome of one command: judged by its exit code only (stderr may hold warnings on success).
 *
 * @param argv     what ran
 * @param exitCode its exit code
 * @param stdout   everything it printed on stdout
 * @param stderr   everything it printed on stderr
 */
public record CommandResult(List<String> argv, int exitCode, String stdout, String stderr) {
    public CommandResult {
        argv = List.copyOf(argv);
    }

    public boolean ok() {
        return exitCode == 0;
    }

    /** For error messages: the argv, the exit code and the tails of both streams. */
    public String describe() {
        return "`" + String.join(" ", argv) + "` exited with code " + exitCode
                + tail("stdout", stdout) + tail("stderr", stderr);
    }

    private static String tail(String name, String text) {
        if (text == null || text.isBlank()) {
            return "";
        }
        String[] lines = text.strip().split("\n");
        int from = Math.max(0, lines.length - 10);
        return "\n  " + name + ": " + String.join("\n    ", java.util.Arrays.asList(lines).subList(from, lines.length));
    }
}
