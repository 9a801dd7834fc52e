package io.smartsim.launch.ssh;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.TransportProvider;
import io.smartsim.launch.exec.Transports;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * SSH as a remote transport for the scheduler launchers ({@code --remote user@login-host[:port]}): the login node
 * is resolved as OpenSSH would ({@code ~/.ssh/config}, overridden by {@code --ssh-user}, {@code --ssh-port},
 * {@code --identity}), and the runner is a strict {@link SshCommandRunner}. What it records for a later
 * {@code db status|stop} is the destination and the settings given, never {@code accept-new-host-key}: by then the
 * host key is in known_hosts.
 */
public final class SshTransportProvider implements TransportProvider {
    public static final String SCHEME = "ssh";
    /** The settings the transport reads; {@code hosts} is the ssh launcher's own. */
    static final Set<String> KEYS = Set.of(SshOptions.USER, SshOptions.PORT, SshOptions.IDENTITY, SshOptions.CONFIG,
            SshOptions.KNOWN_HOSTS, SshOptions.ACCEPT_NEW);

    @Override
    public String scheme() {
        return SCHEME;
    }

    @Override
    public Set<String> optionKeys() {
        return KEYS;
    }

    /** Accepting a new host key is for the first connection only: by the next one the key is in known_hosts. */
    @Override
    public Set<String> oneTimeKeys() {
        return Set.of(SshOptions.ACCEPT_NEW);
    }

    @Override
    public CommandRunner open(String destination, Map<String, String> options) {
        try {
            SshConfigResolver.Destination.parse(destination);
        } catch (InvalidSpecException e) {
            throw new InvalidSpecException("launcherOptions." + Transports.REMOTE, "'" + destination + "' is not an SSH "
                    + "destination; give the login node as user@host[:port] or an ssh config Host alias");
        }
        SshFlags flags = SshOptions.flags(options);
        SshTarget target = SshConfigResolver.forUser(flags.configFile()).resolve(destination, flags);
        Map<String, String> recorded = new LinkedHashMap<>();
        recorded.put(Transports.REMOTE, SCHEME + "://" + destination);
        flags.user().ifPresent(u -> recorded.put(SshOptions.USER, u));
        flags.port().ifPresent(p -> recorded.put(SshOptions.PORT, Integer.toString(p)));
        flags.identity().ifPresent(p -> recorded.put(SshOptions.IDENTITY, p.toString()));
        flags.configFile().ifPresent(p -> recorded.put(SshOptions.CONFIG, p.toString()));
        flags.knownHosts().ifPresent(p -> recorded.put(SshOptions.KNOWN_HOSTS, p.toString()));
        return new SshCommandRunner(target, recorded);
    }
}
