package io.smartsim.launch.testing;

import org.junit.jupiter.api.Test;

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
     * which never reaps a child. The test closes the pipe only once sh has become sleep (before that, sh itself could
     * reap cat between its commands: a race the test once lost), so cat exits and stays a zombie. ProcessHandle still
     * calls it alive; it has exited.
     */
    @Test
    void aZombieHasExitedThoughProcessHandleCallsItAlive() throws Exception {
        Process parent = new ProcessBuilder("sh", "-c", "exec 3<&0; cat <&3 >/dev/null & exec sleep 60").start();
        try {
            Path comm = Path.of("/proc/" + parent.pid() + "/comm");
            long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            List<ProcessHandle> children = List.of();
            while (System.nanoTime() < until) {
                children = parent.children().toList();
                if (Files.readString(comm).strip().equals("sleep") && children.size() == 1) {
                    break;
                }
                Thread.sleep(10);
            }
            assertThat(Files.readString(comm).strip()).as("sh has become sleep").isEqualTo("sleep");
            assertThat(children).as("sleep's one child, cat").hasSize(1);
            long cat = children.get(0).pid();
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
