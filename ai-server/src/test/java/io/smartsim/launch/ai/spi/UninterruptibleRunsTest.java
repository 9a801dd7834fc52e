package io.smartsim.launch.ai.spi;

import io.smartsim.launch.ai.AiException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UninterruptibleRunsTest {

    @Test
    void aRunWithoutTimeoutRunsHereAndErrorsKeepTheirText() throws Exception {
        AtomicInteger freed = new AtomicInteger();
        UninterruptibleRuns runs = new UninterruptibleRuns(freed::incrementAndGet);
        assertThat(runs.call(() -> Thread.currentThread().getName(), null)).isEqualTo(Thread.currentThread().getName());
        assertThatThrownBy(() -> runs.call(() -> {
            throw new AiException("ERR refused");
        }, null)).isInstanceOf(AiException.class).hasMessage("ERR refused");
        assertThatThrownBy(() -> runs.call(() -> {
            throw new IllegalStateException("line one\nline two");
        }, Duration.ofSeconds(5))).isInstanceOf(AiException.class).hasMessage("ERR line one line two");
        runs.close();
        runs.close();
        assertThat(freed).hasValue(1);
        assertThatThrownBy(() -> runs.call(() -> 1, null)).isInstanceOf(AiException.class);
    }

    @Test
    void theCallerStopsWaitingAtTheTimeoutAndTheModelIsFreedWhenTheAbandonedRunEnds() throws Exception {
        AtomicInteger freed = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        UninterruptibleRuns runs = new UninterruptibleRuns(freed::incrementAndGet);
        // The run waits until this test releases it: the caller's wait can end only at the timeout, on any machine.
        assertThatThrownBy(() -> runs.call(() -> release.await(60, TimeUnit.SECONDS), Duration.ofMillis(50)))
                .isInstanceOf(ModelTimeoutException.class);
        runs.close();
        assertThat(freed).as("not freed under the abandoned run").hasValue(0);
        assertThat(UninterruptibleRuns.awaitWorkers(Duration.ofMillis(20))).isFalse();
        release.countDown();
        assertThat(UninterruptibleRuns.awaitWorkers(Duration.ofSeconds(10))).isTrue();
        assertThat(freed).hasValue(1);
    }
}
