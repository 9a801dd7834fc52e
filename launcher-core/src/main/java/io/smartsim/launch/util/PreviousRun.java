package io.smartsim.launch.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The previous run's copy of a file (a log) on this machine's file system, kept beside the new one. */
public final class PreviousRun {
    private PreviousRun() {
    }

    /** Where {@link #keep} puts {@code file}: {@code NAME.1} beside it. */
    public static Path of(Path file) {
        return file.resolveSibling(file.getFileName() + ".1");
    }

    /** Moves {@code file}, if it exists, to {@link #of}, replacing an older one. */
    public static void keep(Path file) throws IOException {
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            Files.move(file, of(file), StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
