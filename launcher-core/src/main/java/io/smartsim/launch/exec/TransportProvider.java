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
     * A runner for {@code destination} ({@code user@host[:port]}, a host alias, ...) with these settings (the keys of
     * {@link #optionKeys()} that were given). Checks the settings; connects lazily, on first use.
     *
     * @throws io.smartsim.launch.InvalidSpecException when the destination or a setting is not valid
     */
    CommandRunner open(String destination, Map<String, String> options);
}
