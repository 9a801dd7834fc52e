package io.smartsim.launch.ssh;

import io.smartsim.launch.error.LaunchException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The host refused every key offered. Names the user, the host and the keys; never prints a secret. */
public class SshAuthException extends LaunchException {
    public SshAuthException(SshTarget target, Throwable cause) {
        super("SSH login as " + target.where() + " (host " + target.alias() + ") was refused: no offered key was "
                + "accepted (tried " + describe(target.identities()) + (target.useAgent() ? " and the agent's keys, if any"
                : "") + "); give the right key with --identity, set IdentityFile/User in ~/.ssh/config, or check the "
                + "host's authorized_keys", cause);
    }

    private static String describe(List<Path> keys) {
        List<String> present = keys.stream().filter(Files::isRegularFile).map(Path::toString).toList();
        return present.isEmpty() ? "no key file: none of " + keys + " exists" : String.join(", ", present);
    }
}
