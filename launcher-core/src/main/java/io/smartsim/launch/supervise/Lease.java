package io.smartsim.launch.supervise;

import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.CommandRunner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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
    /**
     * Writes an expiry (Unix seconds) to a lease file on a host, never replacing a later one: prints "kept" when the
     * file already holds a later or equal expiry. Arguments: the file, the expiry. Hosts often share the experiment's
     * file system with this machine and with each other, and a push can land seconds late (a busy host, a slow login):
     * without this, a late push of an older expiry would overwrite a renewal made meanwhile and, under a short lease,
     * put the file in the past, so the guards stop shards whose controller lives. Written to a temporary name and
     * renamed, owner-only, so a guard never reads half a number. A lease is only ever extended; it is ended by
     * stopping the orchestrator.
     */
    static final String PUSH_SCRIPT = String.join("\n",
            "f=$1; new=$2",
            "umask 077",
            "mkdir -p -- \"$(dirname -- \"$f\")\" || exit 3",
            "old=",
            "if [ -r \"$f\" ]; then read -r old < \"$f\"; fi",
            "case $old in",
            "  ''|*[!0-9]*) ;;",
            "  *) if [ \"$old\" -ge \"$new\" ]; then echo kept; exit 0; fi ;;",
            "esac",
            "printf '%s\\n' \"$new\" > \"$f.tmp.$$\" && mv -f -- \"$f.tmp.$$\" \"$f\"");

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

    /** The command that writes {@code expiry} to {@code file} on a host unless it holds a later one already. */
    public static List<String> pushCommand(Path file, Instant expiry) {
        return List.of("sh", "-c", PUSH_SCRIPT, "sh", file.toString(), Long.toString(expiry.getEpochSecond()));
    }

    /**
     * Writes {@code expiry} to this lease's file on the host {@code runner} reaches ({@link #pushCommand}); throws,
     * naming the file and host, when it could not.
     */
    public void push(CommandRunner runner, Instant expiry, Duration timeout) {
        CommandResult r = runner.run(pushCommand(file, expiry), timeout);
        if (!r.ok()) {
            throw new LaunchException("cannot write the lease " + file + " on " + runner.where() + ": "
                    + r.describe());
        }
    }

    /** Whether the lease has run out at {@code now}: a guard would stop its shard (a missing file counts as run out). */
    public boolean expired(Instant now) {
        return expiry().map(e -> !now.isBefore(e)).orElse(!Files.exists(file));
    }
}
