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
 * same commands, recorded from it, so the comparison stays once the front is gone (issue 16). One entry a line, each
 * "command -> reply" as {@link TensorWireIT#show} writes bytes (so no line breaks); an entry longer than
 * {@value #LONG} characters is kept as its start and the SHA-256 of the whole.
 *
 * <p>{@code -Dgolden.record=true} writes the files from the front's replies instead of checking them.
 */
final class Golden {
    static final int LONG = 400;
    static final boolean RECORD = Boolean.getBoolean("golden.record");

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

    /**
     * Requires {@code fromModule} to be the front's replies: {@code fromFront}, and the golden file recorded from the
     * front (written from {@code fromFront} under {@code -Dgolden.record=true}).
     */
    static void check(String name, List<String> fromModule, List<String> fromFront) throws IOException {
        assertThat(fromModule).as("replies of the module (actual) vs the front (expected)")
                .containsExactlyElementsOf(fromFront);
        List<String> front = fromFront.stream().map(Golden::kept).toList();
        Path file = file(name);
        if (RECORD) {
            Files.createDirectories(file.getParent());
            Files.write(file, front, StandardCharsets.UTF_8);
            return;
        }
        assertThat(front).as("the front's replies (actual) vs " + file + " (recorded from it)")
                .containsExactlyElementsOf(Files.readAllLines(file, StandardCharsets.UTF_8));
    }
}
