package io.smartsim.launch.cli;

import io.smartsim.launch.planned.SlotRange;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** Pure text formatting for the commands' output: tables, sizes, slot lists, argv. */
final class Text {
    private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_./:=,@%+-]+");
    private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB", "PiB"};

    private Text() {
    }

    /** Left-aligned columns separated by two spaces; every line starts with {@code indent}. */
    static String table(String indent, List<String> headers, List<List<String>> rows) {
        int[] width = new int[headers.size()];
        List<List<String>> all = new ArrayList<>();
        all.add(headers);
        all.addAll(rows);
        for (List<String> row : all) {
            for (int i = 0; i < width.length; i++) {
                width[i] = Math.max(width[i], cell(row, i).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (List<String> row : all) {
            StringBuilder line = new StringBuilder(indent);
            for (int i = 0; i < width.length; i++) {
                String c = cell(row, i);
                line.append(c);
                if (i < width.length - 1) {
                    line.append(" ".repeat(width[i] - c.length() + 2));
                }
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }

    private static String cell(List<String> row, int i) {
        return i < row.size() && row.get(i) != null ? row.get(i) : "";
    }

    /** 512 B, 1.5 KiB, 2.0 MiB: one decimal, binary units. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        double v = n;
        int unit = -1;
        while (v >= 1024 && unit < UNITS.length - 1) {
            v /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, UNITS[unit]);
    }

    /** "0-5461" or "0-10,20-30"; "-" for none. */
    static String slots(List<SlotRange> ranges) {
        return ranges.isEmpty() ? "-" : ranges.stream().map(SlotRange::toString).collect(Collectors.joining(","));
    }

    /** An argv as a POSIX shell would read it back: arguments with special characters single-quoted. */
    static String argv(List<String> argv) {
        return argv.stream().map(Text::shellQuote).collect(Collectors.joining(" "));
    }

    static String shellQuote(String arg) {
        if (SHELL_SAFE.matcher(arg).matches()) {
            return arg;
        }
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    /** Every line of {@code text} with {@code indent} in front. */
    static String indent(String indent, String text) {
        return text.lines().map(l -> (indent + l).stripTrailing()).collect(Collectors.joining("\n", "", "\n"));
    }

    static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }
}
