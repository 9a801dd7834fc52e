package io.smartsim.launch.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Each file's inode and modification time: a file written again in place changes its time, one replaced by a rename
 * its inode. For the testbed scripts, which must leave the files that running tests read alone when they are already
 * right (a file truncated and then written is empty for a moment).
 */
public final class FileStamps {
    private FileStamps() {
    }

    public static Map<Path, List<Object>> of(List<Path> files) throws IOException {
        Map<Path, List<Object>> out = new LinkedHashMap<>();
        for (Path f : files) {
            out.put(f, List.of(Files.getAttribute(f, "unix:ino"), Files.getLastModifiedTime(f)));
        }
        return out;
    }
}
