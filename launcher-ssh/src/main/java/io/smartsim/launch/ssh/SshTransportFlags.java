package io.smartsim.launch.ssh;

import io.smartsim.launch.exec.Transports;
import io.smartsim.launch.spi.LauncherFlags;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The SSH flags: the login node of a scheduler behind SSH ({@code --remote}, read by the transport,
 * {@link SshTransportProvider}) and the settings that override {@code ~/.ssh/config}, read by that transport and by
 * the ssh launcher ({@link SshOptions}).
 */
public final class SshTransportFlags implements LauncherFlags {
    private static final Map<String, String> FLAGS = Map.of(Transports.REMOTE, "--remote", SshOptions.USER,
            "--ssh-user", SshOptions.PORT, "--ssh-port", SshOptions.IDENTITY, "--identity", SshOptions.ACCEPT_NEW,
            "--accept-new-host-key");

    @Option(names = "--remote", paramLabel = "USER@LOGIN-HOST[:PORT]", order = 59,
            description = "slurm/pbs launchers: run every scheduler command and write every file on this login node "
                    + "over SSH (a ~/.ssh/config alias works); shards are reached through ports forwarded by it.")
    String remote;

    @Option(names = "--ssh-user", paramLabel = "USER", order = 61, description = "SSH user (overrides ~/.ssh/config).")
    String user;

    @Option(names = "--ssh-port", paramLabel = "PORT", order = 62, description = "SSH port (overrides ~/.ssh/config).")
    String port;

    @Option(names = "--identity", paramLabel = "KEY", order = 63,
            description = "SSH private key to use instead of ~/.ssh/config's IdentityFile and the agent.")
    String identity;

    @Option(names = "--accept-new-host-key", order = 64,
            description = "Record the key of a host not yet in known_hosts (a changed key is always refused).")
    boolean acceptNewHostKey;

    @Override
    public Map<String, String> launcherOptions() {
        Map<String, String> out = new LinkedHashMap<>();
        if (remote != null) {
            out.put(Transports.REMOTE, remote);
        }
        if (user != null) {
            out.put(SshOptions.USER, user);
        }
        if (port != null) {
            out.put(SshOptions.PORT, port);
        }
        if (identity != null) {
            // recorded for a later db status/stop, which may run in another directory
            out.put(SshOptions.IDENTITY, Path.of(identity).toAbsolutePath().toString());
        }
        if (acceptNewHostKey) {
            out.put(SshOptions.ACCEPT_NEW, "true");
        }
        return out;
    }

    @Override
    public Map<String, String> flags() {
        return FLAGS;
    }
}
