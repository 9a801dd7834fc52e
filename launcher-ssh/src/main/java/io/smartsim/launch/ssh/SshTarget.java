package io.smartsim.launch.ssh;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Where and how to open one SSH session, resolved from {@code ~/.ssh/config} and the flags by
 * {@link SshConfigResolver}. Holds paths, never secrets: nothing here is a password or a key's contents.
 *
 * @param alias            the name the user gave ({@code login1}, {@code 127.0.1.2}); the Host pattern it matched
 * @param hostName         the name or address to connect to ({@code HostName}, else the alias)
 * @param port             the SSH port ({@code Port}, else 22)
 * @param user             the remote user ({@code User}, else the local user)
 * @param identities       private keys to offer, in order; files that do not exist are skipped, as OpenSSH does
 * @param knownHosts       the known_hosts file host keys are checked against (and new ones recorded in)
 * @param useAgent         also offer the keys of the agent at {@code SSH_AUTH_SOCK}, when there is one
 * @param acceptNewHostKey record an unknown host key instead of refusing it (a changed key is always refused)
 * @param connectTimeout   bound for opening the TCP connection and the SSH handshake
 */
public record SshTarget(String alias, String hostName, int port, String user, List<Path> identities, Path knownHosts,
                        boolean useAgent, boolean acceptNewHostKey, Duration connectTimeout) {
    public SshTarget {
        if (alias == null || alias.isBlank() || hostName == null || hostName.isBlank()) {
            throw new IllegalArgumentException("an SSH target needs a host name");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("SSH port " + port + " of " + alias + " is out of range 1-65535");
        }
        if (user == null || user.isBlank()) {
            throw new IllegalArgumentException("an SSH target needs a user");
        }
        identities = List.copyOf(identities);
        if (connectTimeout == null || connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connect timeout " + connectTimeout + " is not positive");
        }
    }

    /** {@code user@host:port}, for messages. */
    public String where() {
        return user + "@" + hostName + (port == 22 ? "" : ":" + port);
    }

    /** The name known_hosts uses for this host: {@code host}, or {@code [host]:port} off port 22 (as OpenSSH writes it). */
    public String knownHostsName() {
        return port == 22 ? hostName : "[" + hostName + "]:" + port;
    }
}
