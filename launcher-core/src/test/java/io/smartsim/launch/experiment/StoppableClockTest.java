package io.smartsim.launch.experiment;

import io.smartsim.launch.util.Deadline;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The clock of a start's deadline: while the start records itself (a local start records once its first shard runs,
 * inside the deadline) it stands still, so {@code --timeout} counts the start's work only, as it did when the record
 * came before the deadline began.
 */
@Timeout(30)
class StoppableClockTest {
    private static long millisBetween(Instant a, Instant b) {
        return Math.abs(Duration.between(a, b).toMillis());
    }

    @Test
    void stoppedItStandsStillAndRestartedItGoesOnFromWhereItStood() throws Exception {
        OrchestratorStart.StoppableClock clock = new OrchestratorStart.StoppableClock(Clock.systemUTC());
        Deadline deadline = Deadline.after(Duration.ofSeconds(10), clock);
        long stopping = System.nanoTime();
        clock.stop();
        Instant stoppedAt = clock.instant();
        Duration before = deadline.remaining();
        Thread.sleep(200);
        assertThat(millisBetween(clock.instant(), stoppedAt)).as("stands still while stopped").isLessThan(20);
        assertThat(millisBetween(Instant.EPOCH.plus(deadline.remaining()), Instant.EPOCH.plus(before)))
                .as("the deadline keeps what remained").isLessThan(20);
        clock.stop(); // stopping a stopped clock changes nothing
        clock.restart();
        Duration stood = Duration.ofNanos(System.nanoTime() - stopping); // at most this long, at least 200 ms
        Instant restarted = clock.instant();
        Thread.sleep(200);
        assertThat(Duration.between(restarted, clock.instant())).as("goes on once restarted")
                .isGreaterThanOrEqualTo(Duration.ofMillis(150));
        clock.restart(); // restarting a running clock changes nothing
        Duration behind = Duration.between(clock.instant(), Clock.systemUTC().instant());
        assertThat(behind).as("behind the wall clock by the time it stood still")
                .isBetween(Duration.ofMillis(180), stood.plusMillis(20));
    }
}
