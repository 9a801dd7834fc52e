package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Human durations as users type them: {@code 90}, {@code 90s}, {@code 5m}, {@code 2h}, {@code 1d}, {@code 500ms}. */
public final class Durations {
    private static final Pattern FORM = Pattern.compile("(?i)\\s*([0-9]{1,9})\\s*(ms|s|m|h|d)?\\s*");

    private Durations() {
    }

    /** Parses {@code text} for {@code field}; a bare number is seconds. Throws naming the field and the forms. */
    public static Duration parse(String field, String text) {
        Matcher m = text == null ? null : FORM.matcher(text);
        if (m == null || !m.matches()) {
            throw new InvalidSpecException(field, "'" + text + "' is not a duration; give a number with a unit, "
                    + "for example 30s, 5m, 2h or 1d (a bare number is seconds)");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase();
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> Duration.ofSeconds(n);
        };
    }

    /** The shortest exact form {@link #parse} reads back: 300 s -> "5m", 1500 ms -> "1500ms". */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) return ms + "ms";
        long s = ms / 1000;
        if (s != 0 && s % 86400 == 0) return s / 86400 + "d";
        if (s != 0 && s % 3600 == 0) return s / 3600 + "h";
        if (s != 0 && s % 60 == 0) return s / 60 + "m";
        return s + "s";
    }
}
