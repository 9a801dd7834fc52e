package io.smartsim.launch.ai.module;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Where the smartsim-ai Redis module is: the shared library that {@code redis-server --loadmodule} takes. ai-module's
 * build compiles it from {@code src/main/c} and puts it beside this class, so it is found the same way in the source
 * tree ({@code target/classes}) and in the jar.
 */
public final class AiModule {
    /** The library's name beside this class. */
    public static final String FILE_NAME = "smartsim-ai.so";

    private AiModule() {
    }

    /**
     * The library as a file: in place when this class comes from a directory, otherwise copied out of the jar into
     * {@code dir} (created if needed) and returned from there.
     */
    public static Path library(Path dir) throws IOException {
        URL url = AiModule.class.getResource(FILE_NAME);
        if (url == null) {
            throw new IllegalStateException(FILE_NAME + " is not beside " + AiModule.class.getName()
                    + " on the class path: ai-module's build compiles it with gcc (see its build output)");
        }
        if (url.getProtocol().equals("file")) {
            try {
                return Path.of(url.toURI());
            } catch (URISyntaxException e) {
                throw new IllegalStateException("bad class path URL " + url, e);
            }
        }
        Files.createDirectories(dir);
        Path out = dir.resolve(FILE_NAME);
        Path tmp = Files.createTempFile(dir, FILE_NAME, ".part");
        try (InputStream in = url.openStream()) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return out;
    }
}
