package io.smartsim.launch.cli;

import java.util.ArrayList;
import java.util.List;

/** Splits a command line as a POSIX shell does (blanks, single and double quotes, backslash); no expansions. */
final class ShellWords {
    private ShellWords() {
    }

    static List<String> split(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\'') {
                int end = line.indexOf('\'', i + 1);
                if (end < 0) {
                    throw new IllegalArgumentException("unterminated ' in: " + line);
                }
                w.append(line, i + 1, end);
                i = end;
                inWord = true;
            } else if (c == '"') {
                int j = i + 1;
                for (; j < line.length() && line.charAt(j) != '"'; j++) {
                    char d = line.charAt(j);
                    if (d == '\\' && j + 1 < line.length() && "$`\"\\".indexOf(line.charAt(j + 1)) >= 0) {
                        d = line.charAt(++j);
                    } else if (d == '$' || d == '`') {
                        throw new IllegalArgumentException("expansion in: " + line);
                    }
                    w.append(d);
                }
                if (j >= line.length()) {
                    throw new IllegalArgumentException("unterminated \" in: " + line);
                }
                i = j;
                inWord = true;
            } else if (c == '\\' && i + 1 < line.length()) {
                w.append(line.charAt(++i));
                inWord = true;
            } else if (c == ' ' || c == '\t') {
                if (inWord) {
                    words.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
            } else if ("|&;<>()$`*?[#~".indexOf(c) >= 0 && !inWord || "|&;<>()$`".indexOf(c) >= 0) {
                throw new IllegalArgumentException("'" + c + "' would mean something else to a shell in: " + line);
            } else {
                w.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(w.toString());
        }
        return words;
    }
}
