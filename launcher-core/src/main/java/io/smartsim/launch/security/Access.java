package io.smartsim.launch.security;

import java.util.Optional;

/**
 * How a control connection gets into a shard: the ACL user to authenticate as, when the orchestrator has one.
 * Every control-plane caller in core (readiness PING, cluster forming, health, shutdown) takes one.
 *
 * @param credentials the user and password; empty for an orchestrator started with {@code --no-auth}
 */
public record Access(Optional<Credentials> credentials) {
    /** No authentication: an orchestrator started with {@code --no-auth}, or one recorded before auth existed. */
    public static final Access NONE = new Access(Optional.empty());

    public Access {
        credentials = credentials == null ? Optional.empty() : credentials;
    }

    public static Access of(Optional<Credentials> credentials) {
        return credentials.isEmpty() ? NONE : new Access(credentials);
    }
}
