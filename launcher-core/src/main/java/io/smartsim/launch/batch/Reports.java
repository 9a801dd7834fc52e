package io.smartsim.launch.batch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reading what schedulers print and what shard wrappers report, the same way for every scheduler: non-blank lines
 * with trailing blanks cut, and a wrapper's {@code key=value} report. Pure.
 */
public final class Reports {
    private Reports() {
    }

    /** The non-blank lines of a command's output, trailing white space cut. */
    public static List<String> lines(String out) {
        List<String> l = new ArrayList<>();
        for (String s : out.split("\n")) {
            if (!s.isBlank()) {
                l.add(s.stripTrailing());
            }
        }
        return l;
    }

    /**
     * A wrapper's report ({@code address=...} lines, written whole then renamed) as a map; an
     * {@link IllegalArgumentException} naming the first of {@code required} that is missing or blank.
     */
    public static Map<String, String> fields(String text, List<String> required) {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String line : lines(text)) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                kv.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        for (String key : required) {
            if (kv.getOrDefault(key, "").isBlank()) {
                throw new IllegalArgumentException("shard report has no " + key + ": " + kv);
            }
        }
        return kv;
    }

    /** The report's {@code pid}, when it is a number. */
    public static Optional<Long> pid(Map<String, String> fields) {
        return Optional.ofNullable(fields.get("pid")).filter(p -> p.matches("[0-9]+")).map(Long::valueOf);
    }
}
