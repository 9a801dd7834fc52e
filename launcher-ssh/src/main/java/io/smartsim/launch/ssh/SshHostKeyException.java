package io.smartsim.launch.ssh;

import io.smartsim.launch.error.LaunchException;

/**
 * The host's key is not in known_hosts, or differs from the one recorded there. Names the host, the key type and
 * its SHA256 fingerprint (compare it with {@code ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub} on the host), and
 * the flag that records a new key.
 */
public class SshHostKeyException extends LaunchException {
    private final String fingerprint;

    public SshHostKeyException(SshTarget target, String fingerprint, String keyType, boolean changed) {
        super(changed
                ? "the " + keyType + " host key of " + target.knownHostsName() + " (host " + target.alias()
                        + ") has CHANGED: it now presents " + fingerprint + ", which differs from the key recorded in "
                        + target.knownHosts() + ". This can mean someone is intercepting the connection. If the host "
                        + "was reinstalled, remove the old key (ssh-keygen -R '" + target.knownHostsName() + "' -f "
                        + target.knownHosts() + ") and connect again; --accept-new-host-key never replaces a changed key"
                : "the host key of " + target.knownHostsName() + " (host " + target.alias() + ") is not known: it "
                        + "presents the " + keyType + " key " + fingerprint + ", which is not in "
                        + target.knownHosts() + ". Check the fingerprint with the host's administrator, then rerun "
                        + "with --accept-new-host-key (launcher option accept-new-host-key=true) to record it, or add "
                        + "it with ssh-keyscan");
        this.fingerprint = fingerprint;
    }

    public String fingerprint() {
        return fingerprint;
    }
}
