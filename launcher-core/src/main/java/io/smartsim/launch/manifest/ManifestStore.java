package io.smartsim.launch.manifest;

import io.smartsim.launch.spec.Json;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.error.ManifestException;
import io.smartsim.launch.security.OwnerOnly;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Reads and writes {@code <expDir>/manifest.json}. Updates are read-modify-write under an exclusive file lock
 * ({@code .manifest.lock}) and replace the file atomically, so concurrent CLI calls never see half a file.
 */
public final class ManifestStore {
    public static final String FILE = "manifest.json";

    private static final java.util.concurrent.ConcurrentMap<Path, Object> IN_THIS_JVM =
            new java.util.concurrent.ConcurrentHashMap<>();

    private final Path dir;
    private final Path file;
    /** What this store wrote last, as bytes and as the value they hold; touched only under the locks of update. */
    private Written last;

    /** The bytes of a manifest file and the manifest they hold. */
    private record Written(byte[] bytes, Manifest manifest) {
    }

    public ManifestStore(Path expDir) {
        this.dir = expDir.toAbsolutePath().normalize();
        this.file = dir.resolve(FILE);
    }

    public Path file() {
        return file;
    }

    /** The manifest, or empty when the directory has none. A corrupt file is a {@link ManifestException}. */
    public Optional<Manifest> read() {
        return bytes().map(this::parse);
    }

    private Optional<byte[]> bytes() {
        try {
            return Optional.of(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (AccessDeniedException e) {
            throw new ManifestException("cannot read the manifest " + file + ": permission denied; run as the user who "
                    + "started the experiment or fix the file's permissions");
        } catch (IOException e) {
            throw new ManifestException("cannot read the manifest " + file + ": " + e.getMessage(), e);
        }
    }

    private Manifest parse(byte[] bytes) {
        try {
            Manifest m = Json.mapper().readValue(bytes, Manifest.class);
            if (m == null || m.version() != Manifest.VERSION) {
                throw new ManifestException("the manifest " + file + " has format version "
                        + (m == null ? "none" : m.version()) + ", but this smartsim-launch reads version "
                        + Manifest.VERSION + "; use the smartsim-launch that wrote it");
            }
            return m;
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
            throw new ManifestException("the manifest " + file + " is not a valid smartsim-launch manifest" + where
                    + ": " + e.getOriginalMessage() + ". If it was edited by hand, restore it; to start over, move it "
                    + "aside (shards it listed may still be running: check with 'ps' and stop them)", e);
        } catch (IOException e) {
            throw new ManifestException("cannot read the manifest " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (e instanceof LaunchException le) {
                throw le;
            }
            throw new ManifestException("the manifest " + file + " has invalid contents: " + e.getMessage()
                    + ". Restore it, or move it aside to start over", e);
        }
    }

    /** Applies {@code change} to the current manifest (or a new one) under the lock, and writes the result. */
    public Manifest update(String experiment, UnaryOperator<Manifest> change) {
        // The file lock excludes other processes; within this JVM a second thread asking for it would get an
        // OverlappingFileLockException (a model's status recorded while stop-on-exit records another), so threads
        // take turns first.
        synchronized (IN_THIS_JVM.computeIfAbsent(file, f -> new Object())) {
            return updateLocked(experiment, change);
        }
    }

    private Manifest updateLocked(String experiment, UnaryOperator<Manifest> change) {
        try {
            Files.createDirectories(dir);
            try (FileChannel ch = FileChannel.open(dir.resolve(".manifest.lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = ch.lock()) {
                // The file as this store wrote it last (no other process wrote since) is not parsed again: a start's
                // records of its shards, one per shard while they are spawned, would each parse the whole file, and
                // the first parse in a JVM (Jackson building its readers) delays the next shard's spawn by 40-80 ms.
                Written written = last;
                Manifest current = bytes()
                        .map(b -> written != null && Arrays.equals(b, written.bytes()) ? written.manifest() : parse(b))
                        .orElse(Manifest.empty(experiment));
                Manifest next = change.apply(current);
                last = new Written(write(next), next);
                return next;
            }
        } catch (IOException e) {
            throw new ManifestException("cannot update the manifest " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code m} in place of the file, atomically; returns the bytes written. */
    private byte[] write(Manifest m) throws IOException {
        // Owner-only from its first byte: the manifest holds the database passwords.
        Path tmp = FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
                ? Files.createTempFile(dir, ".manifest", ".tmp", PosixFilePermissions.asFileAttribute(OwnerOnly.FILE))
                : Files.createTempFile(dir, ".manifest", ".tmp");
        try {
            byte[] bytes = Json.mapper().writeValueAsBytes(m);
            Files.write(tmp, bytes);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return bytes;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
