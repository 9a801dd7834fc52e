package io.smartsim.launch.ssh;

import com.jcraft.jsch.ConfigRepository;
import com.jcraft.jsch.OpenSSHConfig;
import io.smartsim.launch.error.InvalidSpecException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Resolves a destination the way OpenSSH reads {@code ~/.ssh/config}: the first value obtained wins, lines
 * before any {@code Host} apply to every host, {@code Host} patterns match the name the user typed (globs,
 * negation). Flags override the file; a {@code user@} or {@code :port} in the destination overrides both.
 * The parsing is JSch's {@link OpenSSHConfig}; what is taken from it is HostName, Port, User, IdentityFile,
 * IdentitiesOnly and UserKnownHostsFile. {@code StrictHostKeyChecking} in the file is not honoured: accepting
 * a new host key takes the explicit flag.
 */
public final class SshConfigResolver {
    /** Keys OpenSSH tries when no IdentityFile is configured, in its order. */
    private static final List<String> DEFAULT_KEYS = List.of("id_rsa", "id_ecdsa", "id_ed25519");
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final ConfigRepository config;
    private final Path home;
    private final String localUser;

    /**
     * @param configText the contents of an ssh config file ("" for none)
     * @param home       the local home directory ({@code ~}, {@code %d})
     * @param localUser  the local user name ({@code %u}, and the remote user when nothing else names one)
     */
    public SshConfigResolver(String configText, Path home, String localUser) {
        try {
            this.config = OpenSSHConfig.parse(configText);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a String does not fail
        }
        this.home = home;
        this.localUser = localUser;
    }

    /** A resolver for this user: {@code configFile} if given (it must exist), else {@code ~/.ssh/config} if present. */
    public static SshConfigResolver forUser(Optional<Path> configFile) {
        Path home = Path.of(System.getProperty("user.home"));
        String user = System.getProperty("user.name");
        Path file = configFile.orElse(home.resolve(".ssh").resolve("config"));
        if (configFile.isPresent() && (!Files.isReadable(file) || Files.isDirectory(file))) {
            throw new InvalidSpecException("launcherOptions.ssh-config", file + " is not a readable file; give the path of an "
                    + "OpenSSH client config, or leave it out to use ~/.ssh/config");
        }
        try {
            return new SshConfigResolver(Files.isReadable(file) && !Files.isDirectory(file) ? Files.readString(file) : "",
                    home, user);
        } catch (IOException e) {
            throw new InvalidSpecException("launcherOptions.ssh-config", "cannot read " + file + ": " + e.getMessage());
        }
    }

    /**
     * The target for {@code destination} ({@code [user@]host[:port]}, host possibly a Host alias).
     *
     * @param flags what the user set explicitly; each set field overrides the config file
     */
    public SshTarget resolve(String destination, SshFlags flags) {
        Destination d = Destination.parse(destination);
        ConfigRepository.Config c = config.getConfig(d.host());
        String hostName = Optional.ofNullable(c.getHostname()).map(h -> h.replace("%h", d.host())).orElse(d.host());
        int port = d.port().or(flags::port).orElseGet(() -> c.getPort() > 0 ? c.getPort() : 22);
        String user = d.user().or(flags::user).or(() -> Optional.ofNullable(c.getUser())).orElse(localUser);
        List<Path> identities = new ArrayList<>();
        if (flags.identity().isPresent()) {
            identities.add(expand(flags.identity().get().toString(), d.host(), hostName, user, port));
        } else {
            String[] configured = c.getValues("IdentityFile");
            if (configured != null && configured.length > 0) {
                for (String f : configured) {
                    identities.add(expand(f, d.host(), hostName, user, port));
                }
            } else {
                DEFAULT_KEYS.forEach(k -> identities.add(home.resolve(".ssh").resolve(k)));
            }
        }
        boolean identitiesOnly = "yes".equals(lower(c.getValue("IdentitiesOnly")));
        Path knownHosts = flags.knownHosts().orElseGet(() -> {
            String v = c.getValue("UserKnownHostsFile");
            return v == null || v.isBlank() ? home.resolve(".ssh").resolve("known_hosts")
                    : expand(v.strip().split("\\s+")[0], d.host(), hostName, user, port);
        });
        return new SshTarget(d.host(), hostName, port, user, identities, knownHosts,
                !identitiesOnly && flags.identity().isEmpty(), flags.acceptNewHostKey(),
                flags.connectTimeout().orElse(DEFAULT_CONNECT_TIMEOUT));
    }

    private static String lower(String s) {
        return s == null ? null : s.strip().toLowerCase(Locale.ROOT);
    }

    /** OpenSSH's tokens for file names: leading {@code ~}, {@code %d %u %r %h %n %p %%}. */
    Path expand(String value, String alias, String hostName, String user, int port) {
        String v = value.strip();
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
        }
        if (v.equals("~") || v.startsWith("~/")) {
            v = home + v.substring(1);
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < v.length(); i++) {
            char ch = v.charAt(i);
            if (ch != '%' || i + 1 >= v.length()) {
                out.append(ch);
                continue;
            }
            char t = v.charAt(++i);
            switch (t) {
                case 'd' -> out.append(home);
                case 'u' -> out.append(localUser);
                case 'r' -> out.append(user);
                case 'h' -> out.append(hostName);
                case 'n' -> out.append(alias);
                case 'p' -> out.append(port);
                case '%' -> out.append('%');
                default -> out.append('%').append(t);
            }
        }
        Path p = Path.of(out.toString());
        return p.isAbsolute() ? p : home.resolve(p);
    }

    /** {@code [user@]host[:port]}; a host with more than one ':' is an IPv6 address without a port. */
    record Destination(Optional<String> user, String host, Optional<Integer> port) {
        static Destination parse(String s) {
            if (s == null || s.isBlank() || s.chars().anyMatch(Character::isWhitespace)) {
                throw new InvalidSpecException("launcherOptions.hosts", "'" + s + "' is not an SSH destination; "
                        + "give a host name, an ssh config Host alias, or user@host:port");
            }
            Optional<String> user = Optional.empty();
            String rest = s;
            int at = rest.lastIndexOf('@');
            if (at >= 0) {
                user = Optional.of(rest.substring(0, at));
                rest = rest.substring(at + 1);
            }
            Optional<Integer> port = Optional.empty();
            int colon = rest.indexOf(':');
            if (rest.startsWith("[") && rest.contains("]")) {
                int close = rest.indexOf(']');
                if (rest.length() > close + 1 && rest.charAt(close + 1) == ':') {
                    port = Optional.of(port(s, rest.substring(close + 2)));
                }
                rest = rest.substring(1, close);
            } else if (colon >= 0 && colon == rest.lastIndexOf(':')) {
                port = Optional.of(port(s, rest.substring(colon + 1)));
                rest = rest.substring(0, colon);
            }
            if (rest.isEmpty() || user.map(String::isEmpty).orElse(false)) {
                throw new InvalidSpecException("launcherOptions.hosts", "'" + s + "' is not an SSH destination; "
                        + "give a host name, an ssh config Host alias, or user@host:port");
            }
            return new Destination(user, rest, port);
        }

        private static int port(String s, String digits) {
            try {
                int p = Integer.parseInt(digits);
                if (p >= 1 && p <= 65535) {
                    return p;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new InvalidSpecException("launcherOptions.hosts", "'" + s + "' has no valid port after ':'; "
                    + "use a port between 1 and 65535, for example host:2222");
        }
    }
}
