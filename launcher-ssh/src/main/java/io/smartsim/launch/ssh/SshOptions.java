package io.smartsim.launch.ssh;

import io.smartsim.launch.error.InvalidSpecException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The ssh launcher's part of a spec, read from {@code launcherOptions}: the hosts, and the SSH settings that
 * override {@code ~/.ssh/config}.
 *
 * @param hosts one SSH destination per node, in node order ({@code host}, a Host alias, or {@code user@host:port})
 * @param flags the SSH settings given explicitly
 */
public record SshOptions(List<String> hosts, SshFlags flags) {
    public static final String HOSTS = "hosts";
    public static final String USER = "ssh-user";
    public static final String PORT = "ssh-port";
    public static final String IDENTITY = "identity";
    public static final String CONFIG = "ssh-config";
    public static final String KNOWN_HOSTS = "known-hosts";
    public static final String ACCEPT_NEW = "accept-new-host-key";
    public static final Set<String> KEYS = Set.of(HOSTS, USER, PORT, IDENTITY, CONFIG, KNOWN_HOSTS, ACCEPT_NEW);
    /** What a later {@code db status} / {@code db stop} needs to reconnect: recorded with each shard. */
    static final List<String> RECORDED = List.of(USER, PORT, IDENTITY, CONFIG, KNOWN_HOSTS);

    public SshOptions {
        hosts = List.copyOf(hosts);
        if (hosts.isEmpty()) {
            throw new InvalidSpecException("launcherOptions.hosts", "no hosts; the ssh launcher needs the hosts to "
                    + "start shards on, for example --hosts node1,node2,node3");
        }
        hosts.forEach(SshConfigResolver.Destination::parse);
    }

    /** Reads and checks launcher options; unknown keys fail, naming the ones it takes. */
    public static SshOptions parse(Map<String, String> options) {
        TreeSet<String> unknown = new TreeSet<>(options.keySet());
        unknown.removeAll(KEYS);
        if (!unknown.isEmpty()) {
            throw new InvalidSpecException("launcherOptions", "the ssh launcher does not know " + unknown
                    + "; it takes " + new TreeSet<>(KEYS));
        }
        List<String> hosts = new ArrayList<>();
        for (String h : options.getOrDefault(HOSTS, "").split(",")) {
            if (!h.isBlank()) {
                hosts.add(h.strip());
            }
        }
        return new SshOptions(hosts, flags(options));
    }

    /** The SSH settings among {@code options} (the keys of {@link #RECORDED} and {@code accept-new-host-key}). */
    static SshFlags flags(Map<String, String> options) {
        Optional<Integer> port = Optional.ofNullable(options.get(PORT)).map(p -> {
            try {
                int n = Integer.parseInt(p.strip());
                if (n >= 1 && n <= 65535) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new InvalidSpecException("launcherOptions." + PORT, "'" + p + "' is not a port; use 1-65535 (22 is "
                    + "the SSH default)");
        });
        Optional<Path> identity = Optional.ofNullable(options.get(IDENTITY)).map(Path::of);
        identity.ifPresent(p -> {
            if (!p.toFile().isFile()) {
                throw new InvalidSpecException("launcherOptions." + IDENTITY, p.toAbsolutePath() + " is not a file; "
                        + "give the path of a private key, for example ~/.ssh/id_ed25519");
            }
        });
        String accept = options.getOrDefault(ACCEPT_NEW, "false");
        if (!accept.equals("true") && !accept.equals("false")) {
            throw new InvalidSpecException("launcherOptions." + ACCEPT_NEW, "'" + accept + "' is not true or false");
        }
        Optional<String> user = Optional.ofNullable(options.get(USER));
        user.ifPresent(u -> {
            if (u.isBlank() || u.chars().anyMatch(c -> Character.isWhitespace(c) || c == '@')) {
                throw new InvalidSpecException("launcherOptions." + USER, "'" + u + "' is not a user name");
            }
        });
        return new SshFlags(user, port, identity, Optional.ofNullable(options.get(CONFIG)).map(Path::of),
                Optional.ofNullable(options.get(KNOWN_HOSTS)).map(Path::of), Boolean.parseBoolean(accept),
                Optional.empty());
    }

    /** The settings to record with each shard, as absolute paths; never {@code accept-new-host-key}. */
    Map<String, String> recorded() {
        Map<String, String> out = new LinkedHashMap<>();
        flags.user().ifPresent(u -> out.put(USER, u));
        flags.port().ifPresent(p -> out.put(PORT, Integer.toString(p)));
        flags.identity().ifPresent(p -> out.put(IDENTITY, p.toString()));
        flags.configFile().ifPresent(p -> out.put(CONFIG, p.toString()));
        flags.knownHosts().ifPresent(p -> out.put(KNOWN_HOSTS, p.toString()));
        return out;
    }
}
