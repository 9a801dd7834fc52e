package io.smartsim.launch.local;

import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.spi.LaunchedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The local model launcher against real processes whose exit a slow or absent reaper hides from isAlive. */
class LocalModelLauncherTest {

    /**
     * A model started by another process (its record names only a pid) whose parent never reaps it: sh starts the
     * model ({@code sleep 600}) in the background and becomes {@code sleep 601}, which never waits for a child, as a
     * container's PID 1 that does not reap may do. Stopped with a grace of 10 minutes, the model exits on SIGTERM at
     * once and stays a zombie: stop returns as soon as it has exited, and poll calls it ended. With
     * {@link ProcessHandle#isAlive}, which says yes to a zombie, stop waited the whole grace (and 5 s more after a
     * SIGKILL that a zombie ignores): this test's 60 s bound fails it.
     */
    @Test
    @Timeout(60)
    void stopReturnsOnceTheModelHasExitedThoughItsParentNeverReapsIt() throws Exception {
        Process parent = new ProcessBuilder("sh", "-c", "sleep 600 & echo $!; exec sleep 601").start();
        try {
            long model;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(parent.getInputStream(),
                    StandardCharsets.UTF_8))) {
                model = Long.parseLong(out.readLine().strip());
            }
            Path comm = Path.of("/proc/" + parent.pid() + "/comm");
            long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!Files.readString(comm).strip().equals("sleep") && System.nanoTime() < until) {
                Thread.sleep(10); // sh becomes sleep 601 (exec): from then on nothing reaps the model
            }
            assertThat(Files.readString(comm).strip()).as("sh has become sleep 601").isEqualTo("sleep");
            LocalModelLauncher launcher = new LocalModelLauncher();
            LaunchedModel m = new LaunchedModel("sim", LocalLauncher.NAME, Long.toString(model), Optional.of(model),
                    Instant.now(), Map.of());
            assertThat(launcher.poll(List.of(m)).get("sim").status()).isEqualTo(EntityStatus.RUNNING);

            launcher.stop(List.of(m), Duration.ofMinutes(10));

            assertThat(Files.readString(Path.of("/proc/" + model + "/stat"))).as("the model: a zombie, not reaped")
                    .contains(") Z ");
            assertThat(ProcessHandle.of(model).filter(ProcessHandle::isAlive)).as("what isAlive says").isPresent();
            assertThat(launcher.poll(List.of(m)).get("sim").status()).as("a zombie has ended")
                    .isEqualTo(EntityStatus.FAILED);
        } finally {
            parent.destroyForcibly(); // sleep 601: its zombie child goes to init, which reaps it
            assertThat(parent.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
    }
}
