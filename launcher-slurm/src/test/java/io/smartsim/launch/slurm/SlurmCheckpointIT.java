package io.smartsim.launch.slurm;

import io.smartsim.launch.spec.Checkpoint;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import io.smartsim.launch.testing.TestbedLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisCluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A lost allocation on the Slurm testbed: an orchestrator with {@code --checkpoint} as a batch job, its job
 * cancelled ({@code scancel}), then {@code resume} as a new batch job, on whichever nodes it gets: every key back.
 */
@TestbedLock(TestbedLock.Bed.SLURM)
class SlurmCheckpointIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Duration CMD = Duration.ofSeconds(30);
    private static final LocalCommandRunner SH = new LocalCommandRunner();
    private static final int PORT = 16900;

    @TempDir
    Path tmp;
    private final List<String> jobs = new ArrayList<>();

    @BeforeAll
    static void slurmIsHere() {
        HolderJobs.assumeSlurmIsUp();
    }

    @AfterEach
    void cancelEverything() {
        if (!jobs.isEmpty()) {
            SH.run(SlurmCommands.scancel(jobs), CMD);
        }
    }

    /** By working directory: Redis retitles itself, so {@code pgrep -af} never shows this test's directory. */
    private static List<Processes.Proc> redisOf(Path dir) {
        return Processes.serversUnder(dir);
    }

    private Experiment experiment() {
        long t0 = System.nanoTime();
        return Experiment.create("slurm-ck", tmp.resolve("exp"), line -> System.out.printf("  [%6.2f s] %s%n",
                (System.nanoTime() - t0) / 1e9, line));
    }

    private OrchestratorSpec spec() {
        return OrchestratorSpec.builder().id("db").launcher("slurm").nodes(3).instancesPerNode(1)
                .port(leftovers.shardPorts(PORT, 1))
                .launcherOption("batch", "true").checkpoint(Checkpoint.every(Duration.ofSeconds(1))).build();
    }

    private static JedisCluster client(Orchestrator db) {
        Credentials c = db.plan().auth().orElseThrow();
        Set<HostAndPort> seeds = db.shards().stream().map(s -> new HostAndPort(s.host(), s.port()))
                .collect(Collectors.toSet());
        return new JedisCluster(seeds, DefaultJedisClientConfig.builder().user(c.user()).password(c.password())
                .build());
    }

    /** Until every shard's last snapshot holds every change. */
    private static void awaitSnapshot(Orchestrator db) throws InterruptedException {
        Credentials c = db.plan().auth().orElseThrow();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (LaunchedShard s : db.shards()) {
            while (true) {
                try (Jedis j = new Jedis(s.host(), s.port())) {
                    j.auth(c.user(), c.password());
                    String info = j.info("persistence");
                    if (info.contains("rdb_changes_since_last_save:0\r") && info.contains("rdb_bgsave_in_progress:0")) {
                        break;
                    }
                }
                assertThat(System.nanoTime()).as("shard %d snapshot within 20 s", s.index()).isLessThan(until);
                Thread.sleep(50);
            }
        }
    }

    @Test
    void aCancelledJobsDataComesBackInANewBatchJob() throws Exception {
        String first;
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec());
            exp.start(db);
            first = db.shards().get(0).handle().get("jobId");
            jobs.add(first);
            try (JedisCluster jc = client(db)) {
                for (int i = 0; i < 3000; i++) {
                    jc.set("key:" + i, "value:" + i);
                }
            }
            awaitSnapshot(db);
            exp.detach(db); // the allocation is lost below; nobody stops it
        }
        CommandResult cancel = SH.run(SlurmCommands.scancel(List.of(first)), CMD);
        assertThat(cancel.exitCode()).as(cancel.describe()).isZero();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!redisOf(tmp).isEmpty() || !SlurmParsers.jobs(SH.run(SlurmCommands.squeueJobs(List.of(first)), CMD)
                .stdout()).stream().allMatch(SlurmParsers.Job::finished)) {
            assertThat(System.nanoTime()).as("job %s gone within 60 s", first).isLessThan(until);
            Thread.sleep(200);
        }
        for (int i = 0; i < 3; i++) {
            // written on the node under the wrapper's umask 077
            Path rdb = tmp.resolve("exp/db/db_" + i + "/dump.rdb");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(rdb))).as("%s", rdb)
                    .isEqualTo("rw-------");
        }
        try (Experiment exp = experiment()) {
            Orchestrator db = exp.createOrchestrator(spec());
            exp.resume(db);
            String second = db.shards().get(0).handle().get("jobId");
            jobs.add(second);
            assertThat(second).isNotEqualTo(first);
            Credentials c = db.plan().auth().orElseThrow();
            CommandResult check = SH.run(List.of("redis-cli", "--user", c.user(), "--cluster", "check",
                    db.shards().get(0).address()), Map.of("REDISCLI_AUTH", c.password()), CMD);
            assertThat(check.exitCode()).as(check.describe()).isZero();
            List<Integer> missing = new ArrayList<>();
            try (JedisCluster jc = client(db)) {
                for (int i = 0; i < 3000; i++) {
                    if (!("value:" + i).equals(jc.get("key:" + i))) {
                        missing.add(i);
                    }
                }
            }
            assertThat(missing).as("keys not back").isEmpty();
            exp.stop(db);
        }
        assertThat(redisOf(tmp)).isEmpty();
    }
}
