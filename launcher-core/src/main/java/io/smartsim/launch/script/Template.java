package io.smartsim.launch.script;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A script template kept as a resource. Strict: a placeholder without a value fails, and so does a value
 * no placeholder uses (a typo either way). {@code {{name}}} is replaced by the value shell-quoted once;
 * {@code {{raw name}}} by the value as given, for blocks a builder has already quoted.
 */
public final class Template {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{(raw )?([A-Za-z][A-Za-z0-9]*)}}");

    private final String name;
    private final String text;

    private Template(String name, String text) {
        this.name = name;
        this.text = text;
    }

    /** The template {@code name}, a resource beside {@code owner}'s class file. */
    public static Template resource(Class<?> owner, String name) {
        try (InputStream in = owner.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("template resource " + name + " is missing from the jar");
            }
            return new Template(name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read template " + name, e);
        }
    }

    public String render(Map<String, String> values) {
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        Set<String> used = new LinkedHashSet<>();
        while (m.find()) {
            String key = m.group(2);
            String value = values.get(key);
            if (value == null) {
                throw new IllegalArgumentException("template " + name + " needs a value for '" + key + "'; given: "
                        + values.keySet());
            }
            used.add(key);
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) != null ? value : Shell.quote(value)));
        }
        m.appendTail(out);
        Set<String> unused = new LinkedHashSet<>(values.keySet());
        unused.removeAll(used);
        if (!unused.isEmpty()) {
            throw new IllegalArgumentException("template " + name + " has no placeholder for " + unused);
        }
        return out.toString();
    }
}
