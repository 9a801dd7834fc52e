package io.smartsim.launch.pbs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Whole-text comparison with a file under src/test/resources/golden; {@code -Dgolden.update=true} rewrites it. */
final class Golden {
    private static final Path DIR = Path.of("src/test/resources/golden");

    private Golden() {
    }

    static void assertMatches(String name, String actual) {
        Path file = DIR.resolve(name);
        try {
            if (Boolean.getBoolean("golden.update")) {
                Files.createDirectories(DIR);
                Files.writeString(file, actual);
            }
            assertThat(file).as("golden file %s (rerun with -Dgolden.update=true to accept a change)", file).exists();
            assertThat(actual).isEqualTo(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String fixture(String name) {
        try {
            return Files.readString(Path.of("src/test/resources/fixtures").resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
