package io.smartsim.launch.planned;

import io.smartsim.launch.error.InvalidSpecException;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The Redis ACL user of one orchestrator: created on every shard, the only user that can log in (the default user
 * is locked). Models get it as {@code SSDB_USER} and {@code SSDB_PASSWORD}. Kept in the manifest (owner-only);
 * {@link #toString()} never shows the password, and {@link #redacted()} is what plans and dry runs print.
 *
 * @param user     ACL user name
 * @param password its password: 64 hex digits (256 random bits), or {@link #REDACTED} in printed plans
 */
public record Credentials(String user, String password) {
    /** The user every orchestrator gets. */
    public static final String DEFAULT_USER = "smartsim";
    /** What stands for the password wherever a plan is shown. */
    public static final String REDACTED = "<redacted>";

    private static final Pattern USER = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
    /** Letters, digits, '-' and '_': safe unquoted in a server config line, a shell and a URL. */
    private static final Pattern PASSWORD = Pattern.compile("[A-Za-z0-9_-]{16,256}");
    private static final SecureRandom RANDOM = new SecureRandom();

    public Credentials {
        if (user == null || !USER.matcher(user).matches()) {
            throw new InvalidSpecException("auth", "'" + user + "' is not a database user name; use lower-case "
                    + "letters, digits, '_' or '-', starting with a letter");
        }
        if (password == null || !(PASSWORD.matcher(password).matches() || REDACTED.equals(password))) {
            throw new InvalidSpecException("auth", "the database password must be 16 to 256 letters, digits, '_' or "
                    + "'-'");
        }
    }

    /** A fresh password (256 bits from {@link SecureRandom}) for {@link #DEFAULT_USER}. */
    public static Credentials generate() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return new Credentials(DEFAULT_USER, HexFormat.of().formatHex(b));
    }

    /** The same user with the password replaced by {@link #REDACTED}. */
    public Credentials redacted() {
        return new Credentials(user, REDACTED);
    }

    /** {@code text} with every occurrence of the password replaced by {@link #REDACTED}. */
    public String redact(String text) {
        return REDACTED.equals(password) || text == null ? text : text.replace(password, REDACTED);
    }

    @Override
    public String toString() {
        return "Credentials[user=" + user + ", password=" + REDACTED + "]";
    }
}
