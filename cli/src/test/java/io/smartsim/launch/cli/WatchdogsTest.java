package io.smartsim.launch.cli;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The watchdog runs in the experiment directory, so its class path cannot depend on where db start ran. */
class WatchdogsTest {
    @Test
    void theWatchdogsClassPathIsAbsoluteWhateverThisJvmWasGiven() {
        List<String> argv = Watchdogs.command(Path.of("/exp"), "db", Optional.empty());
        String cp = argv.get(argv.indexOf("-cp") + 1);
        assertThat(Arrays.stream(cp.split(File.pathSeparator)).filter(e -> !e.isEmpty()))
                .isNotEmpty().allSatisfy(e -> assertThat(Path.of(e)).isAbsolute());
        assertThat(argv).containsSubsequence("db", "watch", "--exp-dir", "/exp", "--name", "db");
    }
}
