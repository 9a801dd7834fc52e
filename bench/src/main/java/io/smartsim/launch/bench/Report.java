package io.smartsim.launch.bench;

import java.util.ArrayList;
import java.util.List;

/** The figures of one run as Markdown: headings, tables and notes, printed as they come and kept for the file. */
final class Report {
    private final StringBuilder md = new StringBuilder();

    void heading(String text) {
        emit("\n#### " + text + "\n\n");
    }

    void note(String text) {
        emit(text + "\n\n");
    }

    void table(List<String> header, List<List<String>> rows) {
        List<String> lines = new ArrayList<>();
        lines.add("| " + String.join(" | ", header) + " |");
        lines.add("|" + "---|".repeat(header.size()));
        for (List<String> r : rows) {
            lines.add("| " + String.join(" | ", r) + " |");
        }
        emit(String.join("\n", lines) + "\n\n");
    }

    private void emit(String s) {
        md.append(s);
        System.out.print(s);
        System.out.flush();
    }

    String markdown() {
        return md.toString();
    }
}
