package io.smartsim.launch.testing;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PidsTest {
    @Test
    void theStateLetterAfterTheLastParenthesisDecides() {
        assertThat(Pids.running("42 (sleep) S 1 42 42 0 -1")).isTrue();
        assertThat(Pids.running("42 (redis-server) R 1 42 42 0 -1")).isTrue();
        assertThat(Pids.running("42 (sleep) Z 1 42 42 0 -1")).isFalse();
        assertThat(Pids.running("42 (a) Z (b)) S 1 42")).as("a command name with ') Z ' in it").isTrue();
        assertThat(Pids.running("42 (a) S (b)) Z 1 42")).isFalse();
        assertThatThrownBy(() -> Pids.running("garbage")).hasMessageContaining("not a /proc/PID/stat line");
    }

    @Test
    void thisProcessRunsAndAPidThatDoesNotExistDoesNot() {
        assertThat(Pids.running(ProcessHandle.current().pid())).isTrue();
        assertThat(Pids.running(Integer.MAX_VALUE)).isFalse(); // above pid_max
    }

    /**
     * A real zombie: sh starts {@code cat} in the background, reading the test's pipe, then becomes {@code sleep},
     * which never reaps a child. Once the test closes the pipe, cat exits and stays a zombie. ProcessHandle still
     * calls it alive; it has exited.
     */
    @Test
    void aZombieHasExitedThoughProcessHandleCallsItAlive() throws Exception {
        Process parent = new ProcessBuilder("sh", "-c", "exec 3<&0; cat <&3 >/dev/null & echo $!; exec sleep 60")
                .start();
        try {
            long cat = Long.parseLong(new BufferedReader(new InputStreamReader(parent.getInputStream(),
                    StandardCharsets.UTF_8)).readLine().strip());
            assertThat(Pids.running(cat)).as("cat, reading").isTrue();
            parent.getOutputStream().close(); // cat reads EOF and exits; sleep never waits for it
            assertThat(Pids.stillRunningAfter(List.of(cat), Duration.ofSeconds(30))).isEmpty();
            assertThat(Files.readString(Path.of("/proc/" + cat + "/stat"))).as("a zombie").contains(") Z ");
            assertThat(ProcessHandle.of(cat).filter(ProcessHandle::isAlive)).as("what isAlive says").isPresent();
        } finally {
            parent.destroyForcibly();
            parent.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void stillRunningAfterNamesWhatOutlivedTheDeadline() throws Exception {
        long me = ProcessHandle.current().pid();
        assertThat(Pids.stillRunningAfter(List.of(me, (long) Integer.MAX_VALUE), Duration.ofMillis(100)))
                .containsExactly(me);
    }
}
