package io.smartsim.launch.cli;

import io.smartsim.launch.planned.SlotRange;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code db status} shows a shard's job, step and node beside it when the launcher recorded them. */
class DbStatusColumnsTest {

    private static List<String> cells(String line) {
        return Arrays.asList(line.strip().split("\\s{2,}"));
    }

    private static DbStatusCommand.Shard shard(int i, String address, String job, String step, String node) {
        return new DbStatusCommand.Shard(i, "orchestrator_" + i, address, null, "alive", true, "master",
                List.of(new SlotRange(0, 5461)), 3L, 1024L, "1.0 KiB", 1L, null, job, step, node);
    }

    private static String render(List<DbStatusCommand.Shard> shards) {
        DbStatusCommand.Entry e = new DbStatusCommand.Entry("orchestrator", "slurm", "RUNNING", "RUNNING", true, "ok",
                "", shards, List.of(), null);
        return DbStatusCommand.render(new DbStatusCommand.Report("exp", Path.of("/exp/manifest.json"), true,
                List.of(e)));
    }

    @Test
    void slurmShardsShowJobStepAndNode() {
        List<String> lines = render(List.of(shard(0, "127.0.1.1:6780", "41", "0", "n1"),
                shard(1, "127.0.1.2:6780", "41", "1", "n2"))).lines().toList();
        assertThat(cells(lines.get(2))).containsExactly("SHARD", "ADDRESS", "PID", "JOB", "STEP", "NODE", "PROCESS",
                "REACHABLE", "ROLE", "SLOTS", "KEYS", "MEMORY", "CLIENTS");
        assertThat(cells(lines.get(4))).containsExactly("1", "127.0.1.2:6780", "-", "41", "1", "n2", "alive", "yes",
                "master", "0-5461", "3", "1.0 KiB", "1");
    }

    @Test
    void aBatchShardNotLandedYetShowsItsJobAndDashes() {
        List<String> lines = render(List.of(shard(0, "127.0.1.1:6780", "41", "0", "n1"),
                shard(1, "batch-node-1:6780", "41", null, null))).lines().toList();
        assertThat(cells(lines.get(4)).subList(0, 7)).containsExactly("1", "batch-node-1:6780", "-", "41", "-", "-",
                "alive");
    }

    @Test
    void localShardsKeepTheTableWithoutSchedulerColumns() {
        // The local launcher records this host's short name as the node in the handle, but no job: no scheduler
        // columns (the node is in db status --json and the dashboard).
        List<String> lines = render(List.of(shard(0, "127.0.0.1:6780", null, null, "login1"))).lines().toList();
        assertThat(cells(lines.get(2))).containsExactly("SHARD", "ADDRESS", "PID", "PROCESS", "REACHABLE", "ROLE",
                "SLOTS", "KEYS", "MEMORY", "CLIENTS");
    }
}
