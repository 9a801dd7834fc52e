package io.smartsim.launch.slurm;

import io.smartsim.launch.slurm.SlurmParsers.Accounting;
import io.smartsim.launch.slurm.SlurmParsers.Job;
import io.smartsim.launch.slurm.SlurmParsers.ShardReport;
import io.smartsim.launch.slurm.SlurmParsers.Step;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.smartsim.launch.slurm.Golden.fixture;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Parsers fed output captured on the testbed (Slurm 22.05.8); see fixtures/README.txt for each command. */
class SlurmParsersTest {

    @Test
    void runningJob() {
        assertThat(SlurmParsers.jobs(fixture("squeue-running.txt")))
                .containsExactly(new Job("25", "steps", "RUNNING", "None", "n[1-3]"));
        assertThat(SlurmParsers.jobs(fixture("squeue-running.txt")).get(0).running()).isTrue();
    }

    @Test
    void pendingJobsCarryTheirReasonAndNoNodes() {
        List<Job> jobs = SlurmParsers.jobs(fixture("squeue-pending.txt"));
        assertThat(jobs).containsExactly(new Job("26", "waits-resources", "PENDING", "Resources", ""),
                new Job("27", "waits-dependency", "PENDING", "Dependency", ""));
        assertThat(jobs).allMatch(Job::pending).noneMatch(Job::finished);
        assertThat(SlurmParsers.jobs(fixture("squeue-too-many-nodes.txt")).get(0).reason())
                .isEqualTo("PartitionNodeLimit");
    }

    @Test
    void aJobNameWithBarsIsKeptWhole() {
        assertThat(SlurmParsers.jobs("7|a|b|RUNNING|None|n1\n"))
                .containsExactly(new Job("7", "a|b", "RUNNING", "None", "n1"));
    }

    @Test
    void steps() {
        List<Step> steps = SlurmParsers.steps(fixture("squeue-steps.txt"));
        assertThat(steps).hasSize(7);
        assertThat(steps.get(0)).isEqualTo(new Step("34.0", "shard-n1", "n1"));
        assertThat(steps.get(6)).isEqualTo(new Step("34.batch", "batch", "n1"));
        assertThat(steps).allMatch(s -> s.jobId().equals("34"));
        assertThat(SlurmParsers.steps("")).isEmpty();
    }

    @Test
    void accountingWithStepsAndCancelledBy() {
        List<Accounting> rows = SlurmParsers.accounting(fixture("sacct-completed.txt"));
        assertThat(rows).hasSize(12);
        assertThat(rows.get(4)).isEqualTo(new Accounting("28", "fails", "FAILED", "3:0", "n1"));
        assertThat(rows.get(9)).isEqualTo(new Accounting("30", "cancelled", "CANCELLED by 0", "0:0", "n[1-3]"));
        assertThat(rows.get(8).id()).isEqualTo("29.0");
        assertThat(SlurmParsers.accounting(fixture("sacct-unknown-job.txt"))).isEmpty();
        assertThat(SlurmParsers.accounting(fixture("sacct-jobcomp.txt")).get(3).state()).isEqualTo("CANCELLED");
    }

    @Test
    void sbatchParsable() {
        assertThat(SlurmParsers.parsableJobId("31\n")).isEqualTo("31");
        assertThat(SlurmParsers.parsableJobId("31;testbed\n")).isEqualTo("31");
        assertThatThrownBy(() -> SlurmParsers.parsableJobId(fixture("sbatch-too-many-nodes.txt")))
                .hasMessageContaining("Submitted batch job 31");
    }

    @Test
    void scontrolShowJobBothLayoutsAgree() {
        Map<String, String> multi = SlurmParsers.scontrolJob(fixture("scontrol-show-job.txt"));
        Map<String, String> one = SlurmParsers.scontrolJob(fixture("scontrol-show-job-oneliner.txt"));
        assertThat(multi).containsEntry("JobState", "RUNNING").containsEntry("NodeList", "n[1-3]")
                .containsEntry("NumNodes", "3").containsEntry("Reason", "None")
                .containsEntry("Command", "/tmp/slurm-fixtures.h3CpoG/steps.sh");
        assertThat(one).containsAllEntriesOf(Map.of("JobState", "RUNNING", "NodeList", "n[1-3]", "NumNodes", "3",
                "BatchHost", "n1"));
        Map<String, String> failed = SlurmParsers.scontrolJob(fixture("scontrol-show-job-failed.txt"));
        assertThat(failed).containsEntry("JobState", "FAILED").containsEntry("ExitCode", "3:0")
                .containsEntry("Reason", "NonZeroExitCode");
        assertThat(SlurmParsers.scontrolJob(fixture("scontrol-show-job-pending.txt")))
                .containsEntry("Reason", "Resources").containsEntry("NodeList", "");
    }

    @Test
    void hostnames() {
        assertThat(SlurmParsers.hostnames("n1\nn2\nn3\n")).containsExactly("n1", "n2", "n3");
    }

    @Test
    void shardReport() {
        ShardReport r = ShardReport.parse("address=127.0.1.2\nport=6780\nnode=n2\nhostname=vm\njob=34\nstep=3\npid=99\n");
        assertThat(r).isEqualTo(new ShardReport("127.0.1.2", 6780, "n2", "vm", "34", "3", Optional.of(99L)));
        assertThatThrownBy(() -> ShardReport.parse("address=1.2.3.4\nport=6780\n")).hasMessageContaining("node");
    }
}
