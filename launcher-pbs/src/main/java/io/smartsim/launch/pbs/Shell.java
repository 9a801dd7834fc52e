package io.smartsim.launch.pbs;

import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * POSIX shell quoting: every substituted value is quoted exactly once, here. A copy of launcher-slurm's {@code Shell}
 * (plus {@link #doubleQuoted}) until both move to launcher-core.
 */
final class Shell {
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

    private Shell() {
    }

    /** {@code value} as one shell word: left bare when it is plainly safe, otherwise single-quoted. */
    static String quote(String value) {
        if (!value.isEmpty() && SAFE.matcher(value).matches()) {
            return value;
        }
        return "'" + value.replace("'", "'\"'\"'") + "'";
    }

    /**
     * {@code text} inside double quotes, for a word that also expands a variable the script sets
     * ({@code "bash /exp/w.sh ${nodes[0]}"}): {@code $ ` " \} are escaped, so only what follows is expanded.
     */
    static String doubleQuoted(String text, String expansion) {
        return "\"" + text.replaceAll("([$`\"\\\\])", "\\\\$1") + expansion + "\"";
    }

    /** An argv as one shell command line, each word quoted. */
    static String join(List<String> argv) {
        return argv.stream().map(Shell::quote).collect(Collectors.joining(" "));
    }
}
