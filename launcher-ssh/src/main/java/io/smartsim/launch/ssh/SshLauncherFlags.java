package io.smartsim.launch.ssh;

import io.smartsim.launch.spi.LauncherFlags;
import picocli.CommandLine.Option;

import java.util.Map;

/** The ssh launcher's own flag: its hosts ({@link SshOptions#HOSTS}); the SSH settings are {@link SshTransportFlags}. */
public final class SshLauncherFlags implements LauncherFlags {
    @Option(names = "--hosts", paramLabel = "H1,H2,...", order = 60,
            description = "ssh launcher: the hosts to start shards on, one per node (names, ~/.ssh/config aliases or user@host:port).")
    String hosts;

    @Override
    public Map<String, String> launcherOptions() {
        return hosts == null ? Map.of() : Map.of(SshOptions.HOSTS, hosts);
    }

    @Override
    public Map<String, String> flags() {
        return Map.of(SshOptions.HOSTS, "--hosts");
    }
}
