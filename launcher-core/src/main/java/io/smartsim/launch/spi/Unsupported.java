package io.smartsim.launch.spi;

import io.smartsim.launch.InvalidSpecException;
import io.smartsim.launch.OrchestratorSpec;

/** Refusals a launcher makes when planning, for spec features it does not carry out yet. */
public final class Unsupported {
    private Unsupported() {
    }

    /**
     * Refuses {@code --tls} for a launcher whose shards it has not been proven with: certificates are made on the
     * machine running {@code db start}, and this launcher's stop/status checks and file transfer have not been
     * tested against TLS shards. Better a clear error now than a shard that cannot be seen or stopped later.
     */
    public static void tls(OrchestratorSpec spec, String launcher) {
        if (spec.tls()) {
            throw new InvalidSpecException("tls", "--tls is not supported with the " + launcher
                    + " launcher yet (only local); start without --tls, and keep the password (auth is on by default)");
        }
    }
}
