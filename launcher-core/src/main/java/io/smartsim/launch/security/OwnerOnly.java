package io.smartsim.launch.security;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.ByteBuffer;
import java.util.Set;

/**
 * Files and directories only their owner can read: anything that holds a database password (the manifest, the
 * rendered server configs) or a database's data. The permissions are set when the file is created, so there is
 * no moment at which another user could open it.
 */
public final class OwnerOnly {
    public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    public static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");

    private OwnerOnly() {
    }

    private static boolean posix() {
        return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    }

    /** Writes {@code text} to {@code file}, replacing it: a new file created 0600, never an old one rewritten. */
    public static void writeString(Path file, String text) throws IOException {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    public static void write(Path file, byte[] bytes) throws IOException {
        Files.deleteIfExists(file); // an older copy may have wider permissions
        FileAttribute<?>[] attrs = posix() ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE)}
                : new FileAttribute<?>[0];
        try (SeekableByteChannel ch = Files.newByteChannel(file, Set.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), attrs)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        }
    }

    /** Creates {@code dir} (and missing parents) and makes {@code dir} itself 0700. */
    public static void createDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
        restrict(dir, DIR);
    }

    /**
     * {@code argv} run with umask 077, so that every file the process creates is owner-only: a server writes its
     * snapshots and AOF with the process umask (0644 under the usual 022), and no server option changes that. The
     * shell execs the command with its name unchanged as argv[0], keeping the same pid.
     */
    public static java.util.List<String> withOwnerOnlyUmask(java.util.List<String> argv) {
        java.util.List<String> out = new java.util.ArrayList<>(java.util.List.of("/bin/sh", "-c",
                "umask 077 && exec \"$0\" \"$@\""));
        out.addAll(argv);
        return java.util.List.copyOf(out);
    }

    /** Sets {@code path}'s permissions to {@code perms} where the file system has POSIX permissions. */
    public static void restrict(Path path, Set<PosixFilePermission> perms) throws IOException {
        if (posix()) {
            Files.setPosixFilePermissions(path, perms);
        }
    }
}
