package io.smartsim.launch.ssh;

import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.UserInfo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Optional;

/**
 * Strict host-key checking against one known_hosts file, remembering what it saw so that a refusal can name
 * the host, the key type and the SHA256 fingerprint (JSch's own message has no fingerprint when it refuses).
 * With {@code acceptNew}, a host that is not in the file at all is recorded there (OpenSSH's
 * {@code accept-new}); a host whose key changed is refused either way.
 */
final class HostKeyVerifier implements HostKeyRepository {
    private static final Object FILE_LOCK = new Object();

    private final HostKeyRepository known;
    private final Path file;
    private final boolean acceptNew;
    private volatile Seen last;

    /** What the last check saw. */
    record Seen(String host, String type, String fingerprint, int result, boolean recorded) {
    }

    HostKeyVerifier(HostKeyRepository known, Path file, boolean acceptNew) {
        this.known = known;
        this.file = file;
        this.acceptNew = acceptNew;
    }

    Optional<Seen> last() {
        return Optional.ofNullable(last);
    }

    @Override
    public int check(String host, byte[] key) {
        int result;
        synchronized (known) {
            result = known.check(host, key);
        }
        String type = keyType(key);
        boolean recorded = false;
        if (result == NOT_INCLUDED && acceptNew) {
            append(host + " " + type + " " + Base64.getEncoder().encodeToString(key) + "\n");
            recorded = true;
            result = OK;
        }
        last = new Seen(host, type, fingerprint(key), result, recorded);
        return result;
    }

    private void append(String line) {
        synchronized (FILE_LOCK) {
            try {
                Path dir = file.toAbsolutePath().getParent();
                if (!Files.isDirectory(dir)) {
                    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                }
                Files.writeString(file, line, StandardCharsets.US_ASCII, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot record the host key in " + file + ": " + e.getMessage(), e);
            }
        }
    }

    /** OpenSSH's form: {@code SHA256:} and the unpadded base64 of the key blob's SHA-256. */
    static String fingerprint(byte[] key) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(key);
            return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** The algorithm name at the head of an SSH public key blob ({@code ssh-ed25519}, ...). */
    static String keyType(byte[] key) {
        try {
            ByteBuffer b = ByteBuffer.wrap(key);
            int n = b.getInt();
            if (n <= 0 || n > 64 || n > b.remaining()) {
                return "unknown";
            }
            byte[] name = new byte[n];
            b.get(name);
            return new String(name, StandardCharsets.US_ASCII);
        } catch (RuntimeException e) {
            return "unknown";
        }
    }

    @Override
    public void add(HostKey hostkey, UserInfo ui) {
        // Never called with strict checking; new keys are recorded by check() when accepted.
    }

    @Override
    public void remove(String host, String type) {
        // known_hosts is the user's: this never removes a key.
    }

    @Override
    public void remove(String host, String type, byte[] key) {
    }

    @Override
    public String getKnownHostsRepositoryID() {
        return file.toString();
    }

    @Override
    public HostKey[] getHostKey() {
        synchronized (known) {
            return known.getHostKey();
        }
    }

    @Override
    public HostKey[] getHostKey(String host, String type) {
        synchronized (known) {
            return known.getHostKey(host, type);
        }
    }
}
