package io.smartsim.launch.dashboard;

import io.smartsim.launch.status.ColocatedNode;
import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.colocated.ColocatedPlanner;
import io.smartsim.launch.colocated.ColocatedStatus;
import io.smartsim.launch.spec.ColocatedDb;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How the dashboard schedules its checks of colocated databases. The check here is a stand-in that blocks until the
 * test lets it go, for a PING that never ends (a real SIGSTOPped server: {@code DashboardHungColocatedIT}); it makes
 * "does not wait" a fact rather than a matter of timing.
 */
@Timeout(30)
class ColocatedChecksTest {
    @TempDir
    Path dir;

    @Test
    void pollNeverWaitsRunsOneCheckAtATimePerModelAndTheModelsConcurrently() throws Exception {
        ColocatedPlan hung = ColocatedPlanner.plan("hung", dir.resolve("hung"), ColocatedDb.tcp(6780));
        ColocatedPlan ok = ColocatedPlanner.plan("ok", dir.resolve("ok"), ColocatedDb.tcp(6781));
        CountDownLatch release = new CountDownLatch(1);
        Map<String, AtomicInteger> started = new ConcurrentHashMap<>();
        ColocatedNode okNode = new ColocatedNode("n1", 1, true, true, "127.0.0.1:6781", ok.log("n1"));
        try (ColocatedChecks checks = new ColocatedChecks(p -> {
            started.computeIfAbsent(p.dir().getFileName().toString(), k -> new AtomicInteger()).incrementAndGet();
            if (p == hung) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return List.of(new ColocatedNode("n1", 2, true, false, "127.0.0.1:6780", hung.log("n1")));
            }
            return List.of(okNode);
        })) {
            // the first poll starts the check and returns at once: nothing found yet, one running
            ColocatedChecks.Check first = checks.poll("hung", hung);
            assertThat(first.checked()).isNull();
            assertThat(first.checkingSince()).isNotNull();
            assertThat(first.nodes()).isEmpty();
            // while it hangs, the other model's checks start and end
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            ColocatedChecks.Check other = checks.poll("ok", ok);
            while (other.checked() == null && System.nanoTime() < end) {
                Thread.sleep(5);
                other = checks.poll("ok", ok);
            }
            assertThat(other.nodes()).containsExactly(okNode);
            // polls of the hung one start nothing more: the same check, still running
            for (int i = 0; i < 5; i++) {
                assertThat(checks.poll("hung", hung)).isEqualTo(first);
            }
            assertThat(started.get("hung").get()).isEqualTo(1);

            release.countDown();
            ColocatedChecks.Check after = checks.poll("hung", hung);
            while (after.checked() == null && System.nanoTime() < end) {
                Thread.sleep(5);
                after = checks.poll("hung", hung);
            }
            assertThat(after.nodes()).extracting(ColocatedNode::health).containsExactly("not answering");
            // and the poll that saw it ended started the next one
            assertThat(after.checkingSince()).isNotNull();
        }
    }

    @Test
    void awaitFirstWaitsForTheFirstResultsButNoLongerThanItsLimit() throws Exception {
        ColocatedPlan hung = ColocatedPlanner.plan("hung", dir.resolve("hung"), ColocatedDb.tcp(6780));
        ColocatedPlan ok = ColocatedPlanner.plan("ok", dir.resolve("ok"), ColocatedDb.tcp(6781));
        CountDownLatch release = new CountDownLatch(1);
        try (ColocatedChecks checks = new ColocatedChecks(p -> {
            if (p == hung) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return List.of();
        })) {
            long t0 = System.nanoTime();
            checks.awaitFirst(Map.of("ok", ok, "hung", hung), Duration.ofMillis(300));
            assertThat(System.nanoTime() - t0).as("waited its limit, not for the hung check")
                    .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(300));
            assertThat(checks.poll("ok", ok).checked()).isNotNull();
            assertThat(checks.poll("hung", hung).checked()).isNull();
            release.countDown();
        }
    }
}
