package io.smartsim.launch.ssh;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * What the user set explicitly for SSH ({@code --ssh-user}, {@code --ssh-port}, {@code --identity},
 * {@code --accept-new-host-key}, ...): each set field overrides {@code ~/.ssh/config}.
 *
 * @param user             remote user
 * @param port             SSH port
 * @param identity         the private key to use, instead of IdentityFile and the agent
 * @param configFile       an ssh config file instead of {@code ~/.ssh/config}
 * @param knownHosts       a known_hosts file instead of UserKnownHostsFile / {@code ~/.ssh/known_hosts}
 * @param acceptNewHostKey record unknown host keys (OpenSSH's {@code StrictHostKeyChecking=accept-new})
 * @param connectTimeout   bound for connecting
 */
public record SshFlags(Optional<String> user, Optional<Integer> port, Optional<Path> identity, Optional<Path> configFile,
                       Optional<Path> knownHosts, boolean acceptNewHostKey, Optional<Duration> connectTimeout) {
    public SshFlags {
        user = user == null ? Optional.empty() : user;
        port = port == null ? Optional.empty() : port;
        identity = identity == null ? Optional.empty() : identity.map(p -> p.toAbsolutePath().normalize());
        configFile = configFile == null ? Optional.empty() : configFile.map(p -> p.toAbsolutePath().normalize());
        knownHosts = knownHosts == null ? Optional.empty() : knownHosts.map(p -> p.toAbsolutePath().normalize());
        connectTimeout = connectTimeout == null ? Optional.empty() : connectTimeout;
    }

    public static SshFlags none() {
        return new SshFlags(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                false, Optional.empty());
    }

    public SshFlags withAcceptNewHostKey(boolean accept) {
        return new SshFlags(user, port, identity, configFile, knownHosts, accept, connectTimeout);
    }
}
