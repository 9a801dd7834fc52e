package io.smartsim.launch.spi;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;

/** Refusals a launcher makes when planning, for spec features it does not carry out yet. */
public final class Unsupported {
    /** Where {@code --tls} has been proven (docs/security.md says how each launcher does it). */
    public static final String TLS_WORKS = "it works with the local, ssh and slurm launchers (slurm also behind a "
            + "login node with --remote) and with pbs run from a machine that shares the nodes' file system";

    private Unsupported() {
    }

    /**
     * Refuses {@code --tls} for a launcher, or a way of using one ({@code what}, e.g. "pbs launcher behind a login
     * node (--remote)"), that it has not been proven with: certificates are made on the machine running
     * {@code db start}, and getting them to the shards, and the launcher's own stop/status checks, must have been
     * tested against TLS shards there. Better a clear error now than a shard that cannot be seen or stopped later.
     */
    public static void tls(OrchestratorSpec spec, String what) {
        if (spec.tls()) {
            throw new InvalidSpecException("tls", "--tls is not supported with the " + what + " yet; " + TLS_WORKS
                    + ". Start without --tls (the password still keeps others out: auth is on by default)");
        }
    }
}
