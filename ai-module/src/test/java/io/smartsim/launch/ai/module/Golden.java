package io.smartsim.launch.ai.module;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The replies the Java front gave, kept as golden files (src/test/resources/golden/NAME.txt): the module's wire tests
 * compared the module with the front byte for byte while both existed; these files are what the front answered to the
 * same commands, recorded from it before it was removed (issue 16), so the module is still held to them. One entry a
 * line, each "command -> reply" as {@link TensorWireIT#show} writes bytes (so no line breaks); an entry longer than
 * {@value #LONG} characters is kept as its start and the SHA-256 of the whole. A change of the module's replies that
 * is meant shows as a diff of these files.
 */
final class Golden {
    static final int LONG = 400;

    private Golden() {
    }

    static Path file(String name) {
        return Path.of(System.getProperty("basedir", ".")).resolve("src/test/resources/golden/" + name + ".txt");
    }

    /** An entry as the file keeps it. */
    static String kept(String entry) {
        if (entry.length() <= LONG) {
            return entry;
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(entry.getBytes(StandardCharsets.UTF_8));
            return entry.substring(0, 200) + "... [" + entry.length() + " chars, sha256 " + HexFormat.of().formatHex(d)
                    + "]";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Requires {@code fromModule} to be the front's replies, as the golden file {@code name} keeps them. */
    static void check(String name, List<String> fromModule) throws IOException {
        Path file = file(name);
        assertThat(fromModule.stream().map(Golden::kept).toList())
                .as("replies of the module (actual) vs the front's in " + file + " (expected)")
                .containsExactlyElementsOf(Files.readAllLines(file, StandardCharsets.UTF_8));
    }
}
