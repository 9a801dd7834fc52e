package io.smartsim.launch.script;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * POSIX shell quoting, for rendered scripts and for commands sent over SSH: every substituted value is quoted
 * exactly once, here. Over SSH, sshd hands the command to the user's login shell as one string, and environment
 * goes inside the command ({@code env K=V ...}): sshd drops channel environment unless its {@code AcceptEnv}
 * allows the name.
 */
public final class Shell {
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private Shell() {
    }

    /** {@code value} as one shell word: left bare when it is plainly safe, otherwise single-quoted. */
    public static String quote(String value) {
        if (!value.isEmpty() && SAFE.matcher(value).matches()) {
            return value;
        }
        return "'" + value.replace("'", "'\"'\"'") + "'";
    }

    /** An argv as one shell command line, each word quoted. */
    public static String join(List<String> argv) {
        return argv.stream().map(Shell::quote).collect(Collectors.joining(" "));
    }

    /**
     * The command line sshd runs for {@code argv} with extra environment: {@code env K=V ... argv}, every word
     * quoted. Without environment it is the quoted argv alone.
     */
    public static String command(List<String> argv, Map<String, String> env) {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("an empty argv cannot be run");
        }
        if (env.isEmpty()) {
            return join(argv);
        }
        List<String> words = new ArrayList<>();
        words.add("env");
        env.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            if (!ENV_NAME.matcher(e.getKey()).matches()) {
                throw new IllegalArgumentException("'" + e.getKey() + "' is not an environment variable name");
            }
            words.add(e.getKey() + "=" + e.getValue());
        });
        if (argv.get(0).contains("=")) { // env would read it as one more assignment
            throw new IllegalArgumentException("'" + argv.get(0) + "' cannot be run through env: its name has '='");
        }
        words.addAll(argv);
        return join(words);
    }

    /**
     * {@code text} inside double quotes, for a word that also expands a variable the script sets
     * ({@code "bash /exp/w.sh ${nodes[0]}"}): {@code $ ` " \} are escaped, so only what follows is expanded.
     */
    public static String doubleQuoted(String text, String expansion) {
        return doubleQuoted(text, expansion, "");
    }

    /** As {@link #doubleQuoted(String, String)}, with {@code after} (escaped the same way) after the expansion. */
    public static String doubleQuoted(String before, String expansion, String after) {
        return "\"" + escapeForDoubleQuotes(before) + expansion + escapeForDoubleQuotes(after) + "\"";
    }

    private static String escapeForDoubleQuotes(String text) {
        return text.replaceAll("([$`\"\\\\])", "\\\\$1");
    }
}
