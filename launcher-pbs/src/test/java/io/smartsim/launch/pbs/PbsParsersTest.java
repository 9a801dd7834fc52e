package io.smartsim.launch.pbs;

import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.pbs.PbsParsers.Job;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Parsers fed the fixtures under src/test/resources/fixtures (README.txt says where each came from). */
class PbsParsersTest {

    @Test
    void openPbsRunningJobs() {
        Job one = PbsParsers.qstatJson(Golden.fixture("openpbs-23.06-running-1node.json")).get(0);
        assertThat(one).isEqualTo(new Job("1.vm", "hello1", "R", Optional.empty(),
                "Job run at Wed Nov 25 at 17:01 on (vm:ncpus=1)", "vm/0"));
        assertThat(one.running()).isTrue();
        Job three = PbsParsers.qstatJson(Golden.fixture("openpbs-23.06-running-3nodes.json")).get(0);
        assertThat(three.id()).isEqualTo("13.vm");
        assertThat(PbsParsers.execHosts(three.execHost())).containsExactly("n1", "n2", "n3");
    }

    @Test
    void openPbsFinishedJobsCarryTheirExitStatus() {
        Job done = PbsParsers.qstatJson(Golden.fixture("openpbs-23.06-finished-history.json")).get(0);
        assertThat(done.state()).isEqualTo("F");
        assertThat(done.finished()).isTrue();
        assertThat(done.exitStatus()).contains(0);
        assertThat(done.describe()).isEqualTo("finished, exit status 0 (Job run at Wed Nov 25 at 17:01 on "
                + "(vm:ncpus=1) and finished)");
        Job deleted = PbsParsers.qstatJson(Golden.fixture("openpbs-23.06-qdel-3nodes-partial.json")).get(0);
        assertThat(deleted.exitStatus()).contains(271);
        assertThat(deleted.describe()).startsWith("finished, exit status 271: killed by signal 15 (SIGTERM, e.g. qdel)");
        assertThat(PbsParsers.qstatJson(Golden.fixture("openpbs-23.06-qdel-1node-partial.json")).get(0).exitStatus())
                .contains(271);
    }

    @Test
    void openPbsQueuedAndHeld() {
        List<Job> jobs = PbsParsers.qstatJson(Golden.fixture("openpbs-23.06-queued-and-held-partial.json"));
        assertThat(jobs).extracting(Job::id, Job::state).containsExactly(
                org.assertj.core.groups.Tuple.tuple("9.vm", "Q"), org.assertj.core.groups.Tuple.tuple("10.vm", "H"));
        assertThat(jobs).allMatch(Job::waiting);
        assertThat(jobs.get(0).describe()).isEqualTo("queued (Not Running: No available resources on nodes)");
        assertThat(jobs.get(1).describe()).isEqualTo("held");
    }

    @Test
    void openPbsExitingSubjobAndFailed() {
        List<Job> jobs = PbsParsers.qstatJson(Golden.fixture("openpbs-constructed-exiting-subjob-failed.json"));
        assertThat(jobs).extracting(Job::state).containsExactly("E", "X", "F");
        assertThat(jobs.get(0).running() || jobs.get(0).waiting() || jobs.get(0).finished()).isFalse();
        assertThat(jobs.get(0).describe()).startsWith("exiting, exit status -29: walltime exceeded");
        assertThat(jobs.get(1).finished()).isTrue();
        assertThat(jobs.get(1).id()).isEqualTo("21[1].vm");
        assertThat(jobs.get(2).exitStatus()).contains(3);
    }

    @Test
    void noJobsAndNotJson() {
        assertThat(PbsParsers.qstatJson("")).isEmpty();
        assertThat(PbsParsers.qstatJson("{\"timestamp\":1,\"pbs_version\":\"23.06.06\",\"pbs_server\":\"vm\"}")).isEmpty();
        assertThatThrownBy(() -> PbsParsers.qstatJson("Job Id: 1.vm")).hasMessageContaining("not JSON");
    }

    @Test
    void torqueTextWithWrappedValuesAndEveryState() {
        List<Job> jobs = PbsParsers.qstatText(Golden.fixture("torque-constructed-qstat-f.txt"));
        assertThat(jobs).extracting(Job::state).containsExactly("R", "Q", "H", "E", "C", "C");
        Job running = jobs.get(0);
        assertThat(running.id()).isEqualTo("101.torque01.example.org");
        assertThat(PbsParsers.execHosts(running.execHost())).containsExactly("n1", "n2", "n3");
        assertThat(jobs.get(1).describe()).isEqualTo("queued (Not Running: not enough of the right type of nodes "
                + "available)");
        assertThat(jobs.get(3).exitStatus()).contains(0);
        assertThat(jobs.get(4).finished()).isTrue();
        // A wrapped comment is joined back as PBS wrote it, without a separator.
        assertThat(jobs.get(5).comment()).isEqualTo("Job deleted at request of alice@login01.example.org because "
                + "itexceeded its walltime");
        assertThat(jobs.get(5).exitStatus()).contains(271);
    }

    @Test
    void slurmTorqueWrapperOutput() {
        Job running = PbsParsers.qstatText(Golden.fixture("torque-wrapper-qstat-f-running.txt")).get(0);
        assertThat(running).isEqualTo(new Job("63", "run3", "R", Optional.empty(), "", "n1/2+n2/2+n3/2"));
        assertThat(PbsParsers.execHosts(running.execHost())).containsExactly("n1", "n2", "n3");
        assertThat(PbsParsers.qstatText(Golden.fixture("torque-wrapper-qstat-f-queued.txt")).get(0).waiting()).isTrue();
        assertThat(PbsParsers.qstatText(Golden.fixture("torque-wrapper-qstat-f-after-qdel.txt")).get(0).finished())
                .isTrue();
        Job exit3 = PbsParsers.qstatText(Golden.fixture("torque-wrapper-qstat-f-completed-exit3.txt")).get(0);
        assertThat(exit3.state()).isEqualTo("C");
        assertThat(exit3.exitStatus()).as("the wrapper has no exit_status").isEmpty();
        assertThat(PbsParsers.qstatText(Golden.fixture("torque-wrapper-qstat-f-several.txt")))
                .extracting(Job::id, Job::state).containsExactly(org.assertj.core.groups.Tuple.tuple("63", "R"),
                        org.assertj.core.groups.Tuple.tuple("64", "Q"), org.assertj.core.groups.Tuple.tuple("65", "Q"));
        assertThat(PbsParsers.qstatText(Golden.fixture("torque-wrapper-qstat-f-unknown.txt"))).isEmpty();
        assertThat(PbsLauncher.unknownJob(new CommandResult(List.of("qstat", "-f", "999999"), 153, "", ""))).isTrue();
        assertThat(PbsLauncher.unknownJob(new CommandResult(List.of("qstat"), 1, "", "Connection refused"))).isFalse();
    }

    @Test
    void qsubJobIds() {
        assertThat(PbsParsers.jobId(Golden.fixture("torque-wrapper-qsub.txt"))).isEqualTo("63");
        assertThat(PbsParsers.jobId("13.vm\n")).isEqualTo("13.vm");
        assertThat(PbsParsers.jobId("142[].torque01.bcgsc.ca\n")).isEqualTo("142[].torque01.bcgsc.ca");
        assertThatThrownBy(() -> PbsParsers.jobId(Golden.fixture("torque-wrapper-qsub-bad-queue.txt")))
                .hasMessageContaining("not a job id");
    }

    @Test
    void jobIdsMatchWithOrWithoutTheServer() {
        assertThat(PbsParsers.sameJob("13.vm", "13")).isTrue();
        assertThat(PbsParsers.sameJob("13", "13.vm")).isTrue();
        assertThat(PbsParsers.sameJob("13.vm", "13.other")).isFalse();
        assertThat(PbsParsers.sameJob("13.vm", "130.vm")).isFalse();
    }

    @Test
    void execHostLayouts() {
        assertThat(PbsParsers.execHosts("n1/0*2+n2/0*2")).containsExactly("n1", "n2");
        assertThat(PbsParsers.execHosts("n1/0-1+n2/0-1")).containsExactly("n1", "n2");
        assertThat(PbsParsers.execHosts("")).isEmpty();
        assertThatThrownBy(() -> PbsParsers.execHosts("n1;rm/0")).hasMessageContaining("not a host name");
    }

    @Test
    void nodeFile() {
        String file = "n1\nn1\nn2\nn2\nn3\nn3\n"; // what the testbed's TaskProlog writes for nodes=3:ppn=2
        assertThat(PbsParsers.nodeFile(file)).containsExactly("n1", "n2", "n3");
        assertThat(PbsParsers.nodeFileFirstLines(file)).containsExactly(java.util.Map.entry("n1", 0),
                java.util.Map.entry("n2", 2), java.util.Map.entry("n3", 4));
    }

    @Test
    void dialectFromVersion() {
        // OpenPBS as in the notes; PBS Pro and Torque lines as public projects record them (law, a Torque/PBSPro
        // identification test): pbs_version = PBSPro_11.1.0.111761, version: 2.4.16.
        assertThat(Dialect.fromVersion("pbs_version = 23.06.06\n")).contains(Dialect.PRO);
        assertThat(Dialect.fromVersion("pbs_version = PBSPro_11.1.0.111761")).contains(Dialect.PRO);
        assertThat(Dialect.fromVersion("Version: 6.1.3\nCommit: 1a2b3c\n")).contains(Dialect.TORQUE);
        assertThat(Dialect.fromVersion("version: 2.4.16")).contains(Dialect.TORQUE);
        assertThat(Dialect.fromVersion(Golden.fixture("torque-wrapper-qstat-version.txt"))).isEmpty();
    }

    @Test
    void shardReport() {
        PbsParsers.ShardReport r = PbsParsers.ShardReport.parse(
                "address=127.0.1.2\nport=6780\nnode=n2\nhostname=vm\njob=\npid=4242\n");
        assertThat(r).isEqualTo(new PbsParsers.ShardReport("127.0.1.2", 6780, "n2", "vm", "", Optional.of(4242L)));
        assertThatThrownBy(() -> PbsParsers.ShardReport.parse("port=1\n")).hasMessageContaining("no address");
    }
}
