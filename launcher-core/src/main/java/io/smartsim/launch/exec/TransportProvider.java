package io.smartsim.launch.exec;

import java.util.Map;
import java.util.Set;

/**
 * Opens remote transports: registered in {@code META-INF/services/io.smartsim.launch.exec.TransportProvider}
 * (launcher-ssh registers SSH) and found by {@link Transports} when launcher options name a
 * {@link Transports#REMOTE remote}.
 */
public interface TransportProvider {
    /** The scheme users may write before the destination ({@code ssh} for {@code ssh://user@host}). */
    String scheme();

    /** The launcher-option keys this transport reads besides {@code remote} ({@code ssh-user}, {@code identity}, ...). */
    Set<String> optionKeys();

    /**
     * The keys among {@link #optionKeys()} that grant a one-time permission for the first connection (SSH's
     * {@code accept-new-host-key}): they are never recorded in the manifest ({@link Transports#recordable}), so a
     * later process connects under the strict rules. None by default.
     */
    default Set<String> oneTimeKeys() {
        return Set.of();
    }

    /**
     * A runner for {@code destination} ({@code user@host[:port]}, a host alias, ...) with these settings (the keys of
     * {@link #optionKeys()} that were given). Checks the settings; connects lazily, on first use.
     *
     * @throws io.smartsim.launch.error.InvalidSpecException when the destination or a setting is not valid
     */
    CommandRunner open(String destination, Map<String, String> options);
}
