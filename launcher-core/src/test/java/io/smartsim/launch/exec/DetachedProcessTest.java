package io.smartsim.launch.exec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link DetachedProcess} is started and waited for on commons-exec's thread, so what it knows lags the process by a
 * moment. Callers rely on two promises: once {@code terminate} returns, {@code exit()} says how it ended (BatchStart's
 * cancel, then its check that every run command ended); {@code local(wait)} hands over a process that is being
 * started (the record of a run command whose shard has already reported). Both were seen broken on a busy machine
 * (load 6-10) in BatchStartTest; many processes at once here make the window likely to be hit if it is open again.
 */
@Timeout(120)
class DetachedProcessTest {
    @TempDir
    Path dir;

    @Test
    void onceTerminateReturnsExitSaysHowItEnded() throws Exception {
        List<DetachedProcess> ps = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            ps.add(DetachedProcess.spawn(List.of("sleep", "60"), dir, dir.resolve("p" + i + ".out")));
        }
        for (DetachedProcess p : ps) {
            assertThat(p.local(Duration.ofSeconds(20))).as("started").isPresent();
        }
        for (DetachedProcess p : ps) {
            p.terminate(Duration.ofSeconds(5));
            assertThat(p.exit()).as("exit() right after terminate").isPresent();
        }
    }

    @Test
    void terminateRightAfterSpawnEndsAProcessStillBeingStarted() throws Exception {
        for (int i = 0; i < 40; i++) {
            DetachedProcess p = DetachedProcess.spawn(List.of("sleep", "60"), dir, dir.resolve("t" + i + ".out"));
            try {
                p.terminate(Duration.ofSeconds(5)); // at once: a cancel straight after the spawn
                assertThat(p.exit()).as("exit() after a terminate straight after spawn, round " + i).isPresent();
            } finally {
                p.process(Duration.ofSeconds(20)).ifPresent(Process::destroyForcibly); // nothing left if it failed
            }
        }
    }

    @Test
    void localWithAWaitHandsOverAProcessBeingStarted() throws Exception {
        for (int i = 0; i < 40; i++) {
            DetachedProcess p = DetachedProcess.spawn(List.of("sleep", "60"), dir, dir.resolve("q" + i + ".out"));
            try {
                assertThat(p.local(Duration.ofSeconds(20))).as("local(wait) straight after spawn").isPresent();
                assertThat(p.pid()).isPresent();
            } finally {
                p.terminate(Duration.ofSeconds(5));
            }
        }
    }
}
