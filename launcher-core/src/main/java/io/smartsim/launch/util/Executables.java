package io.smartsim.launch.util;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds executables on PATH. The path is returned as found, never with symlinks resolved: Debian's
 * {@code redis-server} is a symlink to {@code redis-check-rdb} and picks its mode from argv[0].
 */
public final class Executables {
    private Executables() {
    }

    public static Optional<Path> onPath(String name) {
        return onPath(name, System.getenv("PATH"));
    }

    public static Optional<Path> onPath(String name, String pathVar) {
        if (name.contains("/")) {
            Path p = Path.of(name);
            return Files.isRegularFile(p) && Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        if (pathVar == null) {
            return Optional.empty();
        }
        for (String dir : pathVar.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p.toAbsolutePath());
            }
        }
        return Optional.empty();
    }
}
