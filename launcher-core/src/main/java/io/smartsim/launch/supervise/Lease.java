package io.smartsim.launch.supervise;

import io.smartsim.launch.error.LaunchException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * An orchestrator's lease ({@code --lease}): the file {@code <experiment dir>/<id>/lease} holding one number, the
 * time (Unix seconds) after which its shards shut themselves down. A controller renews it by writing a later time
 * (atomically: a new file renamed over the old one); the lease guards next to the shards only read it, so the
 * shards stop even when every controller is gone. Whole seconds, because {@code date +%s} is what a guard can read
 * on any node.
 */
public final class Lease {
    public static final String FILE = "lease";

    private final Path file;

    public Lease(Path file) {
        this.file = file;
    }

    /** The lease of the orchestrator whose directory is {@code orchestratorDir}. */
    public static Lease in(Path orchestratorDir) {
        return new Lease(orchestratorDir.resolve(FILE));
    }

    public Path file() {
        return file;
    }

    /** Sets the expiry to {@code now + duration} (rounded up to a whole second) and returns it. */
    public Instant renew(Duration duration, Instant now) {
        Instant expiry = Instant.ofEpochSecond(now.plus(duration).plusMillis(999).getEpochSecond());
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), ".lease", ".tmp");
            try {
                Files.writeString(tmp, expiry.getEpochSecond() + "\n", StandardCharsets.UTF_8);
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new LaunchException("cannot renew the lease " + file + ": " + e.getMessage()
                    + "; check that the experiment directory is writable", e);
        }
        return expiry;
    }

    /** When the lease runs out, as written; empty when there is no lease file or it holds no number. */
    public Optional<Instant> expiry() {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            return Optional.of(Instant.ofEpochSecond(Long.parseLong(text)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Whether the lease has run out at {@code now}: a guard would stop its shard (a missing file counts as run out). */
    public boolean expired(Instant now) {
        return expiry().map(e -> !now.isBefore(e)).orElse(!Files.exists(file));
    }
}
