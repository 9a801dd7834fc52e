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
    void versionFromTheTestbedAndFromUpstreamNaming() {
        SlurmParsers.Version v = SlurmParsers.version(fixture("slurm-version.txt"));
        assertThat(v.major()).isEqualTo(22);
        assertThat(v.minor()).isEqualTo(5);
        assertThat(v.atLeast(20, 11)).isTrue();
        assertThat(SlurmParsers.version("slurm 20.02.7\n").atLeast(20, 11)).isFalse();
        assertThat(SlurmParsers.version("slurm 20.11.0\n").atLeast(20, 11)).isTrue();
        assertThat(SlurmParsers.version("slurm 15.08.7\n").atLeast(20, 11)).isFalse();
        assertThatThrownBy(() -> SlurmParsers.version("sinfo: command not found")).hasMessageContaining("sinfo -V");
    }

    @Test
    void scontrolShowJobInThe1508LayoutFromSlurmsManPage() {
        Map<String, String> job = SlurmParsers.scontrolJob(fixture("scontrol-show-job-15.08-doc.txt"));
        assertThat(job).containsEntry("JobId", "71701").containsEntry("Name", "hostname")
                .containsEntry("JobState", "COMPLETED").containsEntry("Reason", "None")
                .containsEntry("ExitCode", "0:0").containsEntry("NodeList", "snowflake0")
                .containsEntry("NumNodes", "1").containsEntry("Partition", "debug")
                // keys with ':' and '/' of that layout, and Shared= where 22.05 says OverSubscribe=
                .containsEntry("AllocNode:Sid", "snowflake:4702").containsEntry("CPUs/Task", "2")
                .containsEntry("ReqS:C:T", "1:1:1").containsEntry("Shared", "OK")
                .containsEntry("Network", "(null)");
        assertThat(SlurmParsers.hostnames(fixture("scontrol-show-hostnames-15.08-doc.txt")))
                .containsExactly("tux1", "tux2", "tux3");
    }

    @Test
    void defaultLayoutsFromSlurmsManPagesAreRefusedNotMisread() {
        // The launcher always asks for -o/-P; a table in another layout (a site's wrapper that drops -o, say)
        // must fail naming the layout expected, not turn its header into a job.
        assertThatThrownBy(() -> SlurmParsers.jobs(fixture("squeue-jobs-20.11-doc.txt")))
                .hasMessageStartingWith("not a squeue job line (id|name|state|reason|nodes): ' JOBID PARTITION");
        assertThatThrownBy(() -> SlurmParsers.steps(fixture("squeue-steps-20.11-doc.txt")))
                .hasMessageStartingWith("not a squeue step line (step|name|nodes): '  STEPID");
        assertThatThrownBy(() -> SlurmParsers.accounting(fixture("sacct-default-doc.txt")))
                .hasMessageStartingWith("not a sacct line (id|name|state|exit|nodes): 'Jobid");
    }

    @Test
    void oldStyleStepIdsAndBareExitCodesParse() {
        // Step ids as the 20.11 page shows them (no .batch/.extern), and sacct's bare ExitCode of the old pages,
        // in the layouts the launcher asks for.
        assertThat(SlurmParsers.steps("65552.1|test1|dev[1-4]\n65562.2|big_run|dev22\n"))
                .extracting(Step::jobId).containsExactly("65552", "65562");
        assertThat(SlurmParsers.accounting("4.0||COMPLETED|0|dev1\n"))
                .containsExactly(new Accounting("4.0", "", "COMPLETED", "0", "dev1"));
    }

    @Test
    void hostnames() {
        assertThat(SlurmParsers.hostnames("n1\nn2\nn3\n")).containsExactly("n1", "n2", "n3");
    }

    @Test
    void shardReport() {
        ShardReport r = ShardReport.parse("address=127.0.1.2\nport=6780\nnode=n2\nhostname=vm\njob=34\nstep=3\npid=99\n");
        assertThat(r).isEqualTo(new ShardReport("127.0.1.2", List.of("127.0.1.2"), 6780, "n2", "vm", "34", "3",
                Optional.of(99L)));
        assertThat(r.loopback()).isTrue();
        assertThatThrownBy(() -> ShardReport.parse("address=1.2.3.4\nport=6780\n")).hasMessageContaining("node");
    }

    @Test
    void shardReportWithSeveralInterfacesListsEveryAddressFirstOneUsed() {
        ShardReport r = ShardReport.parse("address=10.1.0.7\naddresses=10.1.0.7 192.168.3.7\nport=6780\nnode=nid7\n"
                + "hostname=nid7\njob=34\nstep=0\npid=99\n");
        assertThat(r.address()).isEqualTo("10.1.0.7");
        assertThat(r.addresses()).containsExactly("10.1.0.7", "192.168.3.7");
        assertThat(r.loopback()).isFalse();
    }
}
