package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;

import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ;name;} placeholders, replaced by parameter values in arguments, environment values and config files.
 * A placeholder that names no parameter is an error, not left in place: a typo would otherwise reach the model.
 */
public final class Tags {
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern TAG = Pattern.compile(";([A-Za-z_][A-Za-z0-9_]*);");

    private Tags() {
    }

    static void checkName(String field, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new InvalidSpecException(field, "'" + name + "' is not a parameter name; use letters, digits and "
                    + "'_', not starting with a digit (it is written ;name; where it is replaced)");
        }
    }

    /**
     * {@code text} with every {@code ;name;} replaced by {@code params.get(name)}. With no parameters the text is
     * returned as it is: a model without parameters may pass ';' through.
     */
    public static String substitute(String text, Map<String, String> params, String where) {
        if (params.isEmpty()) {
            return text;
        }
        Matcher m = TAG.matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String value = params.get(m.group(1));
            if (value == null) {
                throw new InvalidSpecException(where, "';" + m.group(1) + ";' names no parameter; the parameters are "
                        + String.join(", ", new TreeSet<>(params.keySet())));
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(value));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
