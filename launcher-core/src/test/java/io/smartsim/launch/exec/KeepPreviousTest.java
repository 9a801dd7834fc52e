package io.smartsim.launch.exec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** This machine's runner keeps the previous run's logs as NAME.1, as the ssh runner's script does on a host. */
class KeepPreviousTest {
    @TempDir
    Path dir;

    @Test
    void eachExistingFileBecomesDotOneReplacingTheOlderAndMissingOnesAreNoError() throws Exception {
        Path log = dir.resolve("db_0.log");
        Path console = dir.resolve("db_0.out");
        Files.writeString(log, "the run that crashed\n");
        Files.writeString(dir.resolve("db_0.log.1"), "the run before it\n");
        new LocalCommandRunner().keepPrevious(List.of(log, console), Duration.ofSeconds(5));
        assertThat(log).doesNotExist();
        assertThat(dir.resolve("db_0.log.1")).hasContent("the run that crashed");
        assertThat(dir.resolve("db_0.out.1")).doesNotExist();
    }
}
