package io.smartsim.launch.planned;

import java.util.Optional;

/**
 * How a control connection gets into a shard: the ACL user to authenticate as, when the orchestrator has one, and
 * the CA to trust when it speaks TLS only ({@code --tls}). Every control-plane caller in core (readiness PING,
 * cluster forming, health, shutdown) takes one.
 *
 * @param credentials the user and password; empty for an orchestrator started with {@code --no-auth}
 * @param tls         the orchestrator's TLS files; empty when its shards speak plain text
 */
public record Access(Optional<Credentials> credentials, Optional<Tls> tls) {
    /** No authentication, plain text: an orchestrator started with {@code --no-auth}, or one recorded before auth. */
    public static final Access NONE = new Access(Optional.empty(), Optional.empty());

    public Access {
        credentials = credentials == null ? Optional.empty() : credentials;
        tls = tls == null ? Optional.empty() : tls;
    }

    /** Plain text, logged in as {@code credentials} when present. */
    public Access(Optional<Credentials> credentials) {
        this(credentials, Optional.empty());
    }

    public static Access of(Optional<Credentials> credentials) {
        return credentials.isEmpty() ? NONE : new Access(credentials);
    }

    public static Access of(Optional<Credentials> credentials, Optional<Tls> tls) {
        return credentials.isEmpty() && tls.isEmpty() ? NONE : new Access(credentials, tls);
    }

    @Override
    public String toString() {
        return "Access[" + credentials.map(Credentials::toString).orElse("no password")
                + tls.map(t -> ", TLS with CA " + t.caCert()).orElse(", plain text") + "]";
    }
}
