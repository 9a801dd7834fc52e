package io.smartsim.launch.cluster;

import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.util.Deadline;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The failure paths of the wait for a restarted shard; its success path runs in the Slurm and PBS supervision ITs. */
class LandingTest {
    @TempDir
    Path dir;

    private LaunchPlan plan() {
        return Planner.plan("demo", dir, OrchestratorSpec.builder().startupTimeout(Duration.ofSeconds(30)).build(),
                new Placement(List.of(new Placement.Node("localhost", List.of("127.0.0.1")))));
    }

    private static LaunchContext context(Duration budget) {
        return new LaunchContext(Deadline.after(budget), line -> { }, shard -> { });
    }

    private static Landing.Shard shard(Optional<LaunchedShard> report, Optional<String> exit, AtomicInteger reads) {
        return new Landing.Shard() {
            @Override
            public Optional<LaunchedShard> land() {
                reads.incrementAndGet();
                return report;
            }

            @Override
            public Optional<String> carrierExit() {
                return exit;
            }
        };
    }

    @Test
    void aShardThatNeverReportsFailsAtTheDeadlineNamingWhoShouldHaveReported() {
        AtomicInteger reads = new AtomicInteger();
        assertThatThrownBy(() -> Landing.await(plan(), context(Duration.ofMillis(300)), "its step", "its srun",
                shard(Optional.empty(), Optional.empty(), reads), ShardStartException::new))
                .isInstanceOf(ShardStartException.class).hasMessage("its step reported nothing within 30 s");
        assertThat(reads).as("the report is read again until the deadline").hasValueGreaterThan(2);
    }

    @Test
    void aWrappersOwnFailureReportEndsTheWaitAtOnceWithItsMessage() {
        long t0 = System.nanoTime();
        Landing.Shard failed = new Landing.Shard() {
            @Override
            public Optional<LaunchedShard> land() {
                throw new Landing.WrapperFailed("port 6780 is taken on node n2 (10.0.0.2), held by pid 7 (redis-server)");
            }

            @Override
            public Optional<String> carrierExit() {
                return Optional.empty(); // a restart's carrier may not have noticed yet
            }
        };
        assertThatThrownBy(() -> Landing.await(plan(), context(Duration.ofSeconds(30)), "its step", "its srun", failed,
                ShardStartException::new)).hasMessage("port 6780 is taken on node n2 (10.0.0.2), held by pid 7 "
                + "(redis-server)");
        assertThat(System.nanoTime() - t0).as("no wait for the deadline").isLessThan(Duration.ofSeconds(10).toNanos());
    }

    @Test
    void reportedErrorReadsTheErrorLineAndNothingElse() {
        assertThat(Landing.reportedError("error=found no address for node n4 (getent hosts n4); use --interface\n"))
                .contains("found no address for node n4 (getent hosts n4); use --interface");
        assertThat(Landing.reportedError("error=\n")).contains("its wrapper failed (no message)");
        assertThat(Landing.reportedError("address=10.0.0.2\nport=6780\nnode=n2\njob=7\nstep=0\npid=42\n")).isEmpty();
    }

    @Test
    void aCarrierThatEndsFailsAtOnceWithHowItEnded() {
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> Landing.await(plan(), context(Duration.ofSeconds(30)), "its step", "its srun",
                shard(Optional.empty(), Optional.of("exited with 1"), new AtomicInteger()), ShardStartException::new))
                .hasMessage("its srun exited with 1");
        assertThat(System.nanoTime() - t0).as("no wait for the deadline").isLessThan(Duration.ofSeconds(10).toNanos());
    }

    @Test
    void aShardThatReportsButNeverAnswersFailsNamingItsAddress() {
        // Port 1 on loopback: nothing listens there, so every PING is refused at once.
        LaunchedShard reported = new LaunchedShard(0, "db_0", "127.0.0.1", 1, Optional.empty(), Optional.empty(),
                Map.of());
        AtomicInteger reads = new AtomicInteger();
        assertThatThrownBy(() -> Landing.await(plan(), context(Duration.ofMillis(300)), "its step", "its srun",
                shard(Optional.of(reported), Optional.empty(), reads), ShardStartException::new))
                .hasMessage("it did not answer PING on 127.0.0.1:1 within 30 s");
        assertThat(reads).as("landed once, then only PINGed").hasValue(1);
    }
}
