package io.smartsim.launch.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The head start of db start: only for db start, and pure (it plans and serializes; it writes and starts nothing). */
@Timeout(60)
class WarmupTest {
    @Test
    void onlyDbStartGetsIt() {
        assertThat(Warmup.wanted(new String[] {"db", "start", "--per-node", "3"})).isTrue();
        assertThat(Warmup.wanted(new String[] {"db", "stop"})).isFalse();
        assertThat(Warmup.wanted(new String[] {"db"})).isFalse();
        assertThat(Warmup.wanted(new String[] {"--version"})).isFalse();
        assertThat(Warmup.wanted(new String[] {"run", "start"})).isFalse();
    }

    @Test
    void itRunsThroughAndLeavesNoFileAndNoProcess() {
        long before = ProcessHandle.current().children().count();
        assertThat(Warmup.run()).as("every step of the warm-up ran").isTrue();
        assertThat(Path.of("/nonexistent")).doesNotExist();
        assertThat(Files.exists(Path.of("warmup"))).isFalse();
        assertThat(ProcessHandle.current().children().count()).isEqualTo(before);
    }
}
