package io.smartsim.launch.spi;

import io.smartsim.launch.planned.Access;
import io.smartsim.launch.planned.Tls;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.Transports;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Getting an orchestrator's {@link Tls} files to where its shards run, and finding them again from a recorded
 * shard. {@link TlsGenerator} writes them on the machine that runs {@code db start}; a shard that runs elsewhere
 * without a shared file system (an SSH host, a cluster behind a login node) needs a copy at the same absolute path.
 */
public final class TlsFiles {
    /** The handle key under which a launcher records a TLS shard's CA certificate (its absolute path). */
    public static final String HANDLE_CA = "tlsCa";

    private TlsFiles() {
    }

    /**
     * Copies the CA certificate, the server certificate and its key to the same paths where {@code runner} runs
     * commands. Only for transports that write files owner-only (the SSH runner writes under {@code umask 077}:
     * files 0600, new directories 0700); this machine's files are already in place.
     */
    public static void copy(Tls tls, CommandRunner runner, Duration timeout) {
        for (Path p : List.of(tls.caCert(), tls.cert(), tls.key())) {
            String pem;
            try {
                pem = Files.readString(p);
            } catch (IOException e) {
                throw new LaunchException("cannot read the TLS file " + p + " to copy it to " + runner.where() + ": "
                        + e.getMessage() + "; it is written when the orchestrator starts with --tls", e);
            }
            runner.writeFile(p, pem, timeout);
        }
    }

    /** Whether {@code runner} runs commands on another machine ({@code --remote}): then the files need a copy. */
    public static boolean remote(CommandRunner runner) {
        return runner.recorded().containsKey(Transports.REMOTE);
    }

    /** {@code handle} with the CA of {@code tls} recorded, for launchers that check shards themselves. */
    public static Map<String, String> record(Map<String, String> handle, Optional<Tls> tls) {
        tls.ifPresent(t -> handle.put(HANDLE_CA, t.caCert().toAbsolutePath().toString()));
        return handle;
    }

    /**
     * How a launcher's own checks reach a recorded shard: over TLS trusting its recorded CA when it has one, plain
     * otherwise (no credentials: for {@code Ping#answers}, which needs none).
     */
    public static Access access(LaunchedShard shard) {
        return Optional.ofNullable(shard.handle().get(HANDLE_CA)).map(Path::of)
                .map(ca -> Access.of(Optional.empty(), Optional.of(new Tls(ca.getParent()))))
                .orElse(Access.NONE);
    }
}
