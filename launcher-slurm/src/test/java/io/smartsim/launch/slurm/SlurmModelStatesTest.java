package io.smartsim.launch.slurm;

import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.spi.ModelState;
import io.smartsim.launch.slurm.SlurmParsers.Accounting;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Model statuses from squeue and sacct output captured on the testbed (fixtures/README.txt). */
class SlurmModelStatesTest {

    private static Map<String, ModelState> accounting() {
        Map<String, ModelState> out = new LinkedHashMap<>();
        for (Accounting a : SlurmParsers.accounting(Golden.fixture("sacct-completed.txt"))) {
            out.put(a.id(), SlurmModelStates.fromAccounting(a));
        }
        return out;
    }

    @Test
    void sacctGivesEachJobAndStepItsStatusAndExitCode() {
        Map<String, ModelState> s = accounting();
        assertThat(s.get("25")).isEqualTo(new ModelState(EntityStatus.COMPLETED, Optional.of(0), Optional.empty()));
        assertThat(s.get("28")).isEqualTo(new ModelState(EntityStatus.FAILED, Optional.of(3), Optional.empty()));
        assertThat(s.get("29.0")).isEqualTo(new ModelState(EntityStatus.FAILED, Optional.of(1), Optional.empty()));
        assertThat(s.get("30")).isEqualTo(new ModelState(EntityStatus.CANCELLED, Optional.of(0),
                Optional.of("cancelled (CANCELLED by 0)")));
        assertThat(s.get("30.0")).isEqualTo(new ModelState(EntityStatus.CANCELLED, Optional.of(143),
                Optional.of("cancelled (CANCELLED)")));
    }

    @Test
    void failuresOtherThanAnExitCodeSayWhy() {
        assertThat(SlurmModelStates.fromAccounting(new Accounting("9", "sim", "TIMEOUT", "0:15", "n1")))
                .isEqualTo(new ModelState(EntityStatus.FAILED, Optional.of(143),
                        Optional.of("walltime exceeded (TIMEOUT)")));
        assertThat(SlurmModelStates.fromAccounting(new Accounting("9", "sim", "FAILED", "0:9", "n1")))
                .isEqualTo(new ModelState(EntityStatus.FAILED, Optional.of(137), Optional.of("killed by signal 9")));
        assertThat(SlurmModelStates.fromAccounting(new Accounting("9", "sim", "NODE_FAIL", "0:0", "n1")).detail())
                .contains("Slurm state NODE_FAIL");
        assertThat(SlurmModelStates.fromAccounting(new Accounting("9", "sim", "PENDING", "0:0", "")).status())
                .isEqualTo(EntityStatus.QUEUED);
    }

    @Test
    void aPendingJobIsQueuedWithItsReasonAndARunningOneRunning() {
        for (SlurmParsers.Job j : SlurmParsers.jobs(Golden.fixture("squeue-pending.txt"))) {
            ModelState s = SlurmModelStates.fromQueue(j).orElseThrow();
            assertThat(s.status()).isEqualTo(EntityStatus.QUEUED);
            assertThat(s.detail()).contains("pending: " + j.reason());
        }
        for (SlurmParsers.Job j : SlurmParsers.jobs(Golden.fixture("squeue-running.txt"))) {
            assertThat(SlurmModelStates.fromQueue(j)).contains(ModelState.of(EntityStatus.RUNNING));
        }
        assertThat(SlurmModelStates.fromQueue(new SlurmParsers.Job("5", "sim", "COMPLETED", "None", "n1"))).isEmpty();
    }

    /**
     * Where a batch model runs, from what squeue and sacct print (captured on the testbed): a running job's nodes in
     * Slurm's compressed form, as printed; none for a pending job (squeue prints nothing, sacct "None assigned").
     * Before, a batch model's handle had no node at all: the dashboard showed "-".
     */
    @Test
    void aJobsNodesAreWhatSqueueAndSacctListOnceItRunsAndNoneBefore() {
        SlurmParsers.Job running = SlurmParsers.jobs(Golden.fixture("squeue-running.txt")).get(0);
        assertThat(SlurmModelStates.node(running.nodeList())).hasValue("n[1-3]");
        for (SlurmParsers.Job j : SlurmParsers.jobs(Golden.fixture("squeue-pending.txt"))) {
            assertThat(SlurmModelStates.node(j.nodeList())).as("%s", j).isEmpty();
        }
        Map<String, String> nodes = new LinkedHashMap<>();
        for (Accounting a : SlurmParsers.accounting(Golden.fixture("sacct-completed.txt"))) {
            nodes.put(a.id(), SlurmModelStates.node(a.nodeList()).orElse("-"));
        }
        assertThat(nodes).containsEntry("25", "n[1-3]").containsEntry("25.1", "n2").containsEntry("28", "n1")
                .containsEntry("29.0", "n[1-2]");
        for (SlurmParsers.Step st : SlurmParsers.steps(Golden.fixture("squeue-steps.txt"))) {
            assertThat(SlurmModelStates.node(st.nodeList())).as("%s", st).hasValue(st.name().equals("batch") ? "n1"
                    : st.name().substring("shard-".length()));
        }
        assertThat(SlurmModelStates.node(running)).hasValue("n[1-3]");
        assertThat(SlurmModelStates.node(new SlurmParsers.Job("25", "steps", "COMPLETING", "None", "n3")))
                .as("COMPLETING lists only the nodes not yet given back").isEmpty();
        assertThat(SlurmModelStates.node(new SlurmParsers.Job("25", "steps", "COMPLETED", "None", "n[1-3]")))
                .hasValue("n[1-3]");
        assertThat(SlurmModelStates.node("None assigned")).isEmpty();
        assertThat(SlurmModelStates.node(" n2 ")).hasValue("n2");
        assertThat(ModelState.of(EntityStatus.RUNNING).withNode(SlurmModelStates.node(running.nodeList())).node())
                .hasValue("n[1-3]");
    }

    @Test
    void exitCodesReadAsAShellWould() {
        assertThat(SlurmModelStates.exitCode("0:0")).contains(0);
        assertThat(SlurmModelStates.exitCode("3:0")).contains(3);
        assertThat(SlurmModelStates.exitCode("0:9")).contains(137);
        assertThat(SlurmModelStates.exitCode("")).isEmpty();
    }

    private static final Duration WAIT = Duration.ofSeconds(60);

    private static Optional<ModelState> leftQueue(Optional<Integer> file, Optional<Accounting> acct, boolean cancelled,
                                                  Duration goneFor) {
        return SlurmModelStates.leftQueue("12", file, acct, Optional.empty(), cancelled, goneFor, WAIT,
                "its script wrote no exit code to /exp/sim/sim.exit; sacct failed: Slurm accounting storage is disabled");
    }

    @Test
    void aBatchJobThatLeftTheQueueEndsWithTheCodeItsScriptWroteWithoutAskingAccounting() {
        assertThat(leftQueue(Optional.of(0), Optional.empty(), false, Duration.ZERO))
                .contains(new ModelState(EntityStatus.COMPLETED, Optional.of(0), Optional.empty()));
        assertThat(leftQueue(Optional.of(3), Optional.empty(), false, Duration.ZERO))
                .contains(new ModelState(EntityStatus.FAILED, Optional.of(3), Optional.empty()));
        assertThat(leftQueue(Optional.of(137), Optional.empty(), false, Duration.ZERO))
                .contains(new ModelState(EntityStatus.FAILED, Optional.of(137), Optional.of("killed by signal 9")));
        // the file is the model's own code; sacct's record of the same job says no more, and is not needed
        assertThat(leftQueue(Optional.of(3), Optional.of(new Accounting("12", "sim", "FAILED", "3:0", "n1")), false,
                Duration.ZERO)).contains(new ModelState(EntityStatus.FAILED, Optional.of(3), Optional.empty()));
        assertThat(leftQueue(Optional.of(0), Optional.empty(), true, Duration.ZERO))
                .contains(new ModelState(EntityStatus.CANCELLED, Optional.of(0),
                        Optional.of("stopped on request (scancel)")));
    }

    @Test
    void withoutAnExitFileSacctsEndedRecordDecidesAndOneStillRunningIsNoAnswer() {
        assertThat(leftQueue(Optional.empty(), Optional.of(new Accounting("12", "sim", "TIMEOUT", "0:15", "n1")),
                false, Duration.ZERO)).contains(new ModelState(EntityStatus.FAILED, Optional.of(143),
                Optional.of("walltime exceeded (TIMEOUT)")));
        assertThat(leftQueue(Optional.empty(), Optional.of(new Accounting("12", "sim", "RUNNING", "0:0", "n1")),
                false, Duration.ofSeconds(5))).isEmpty();
        assertThat(leftQueue(Optional.empty(), Optional.of(new Accounting("12", "sim", "RUNNING", "0:0", "n1")),
                false, WAIT).orElseThrow().status()).isEqualTo(EntityStatus.FAILED);
    }

    @Test
    void aJobThisLauncherCancelledIsCancelledEvenWithNeitherFileNorAccounting() {
        assertThat(leftQueue(Optional.empty(), Optional.empty(), true, Duration.ZERO))
                .contains(new ModelState(EntityStatus.CANCELLED, Optional.empty(),
                        Optional.of("stopped on request (scancel)")));
    }

    @Test
    void withNeitherFileNorAccountingItWaitsABoundedTimeThenFailsSayingSo() {
        assertThat(leftQueue(Optional.empty(), Optional.empty(), false, Duration.ZERO)).isEmpty();
        assertThat(leftQueue(Optional.empty(), Optional.empty(), false, WAIT.minusMillis(1))).isEmpty();
        ModelState s = leftQueue(Optional.empty(), Optional.empty(), false, WAIT).orElseThrow();
        assertThat(s.status()).isEqualTo(EntityStatus.FAILED);
        assertThat(s.exitCode()).isEmpty();
        assertThat(s.detail().orElseThrow()).startsWith("job 12 left the queue and reported no exit status: its "
                + "script wrote no exit code to /exp/sim/sim.exit; sacct failed: Slurm accounting storage is disabled, "
                + "60 s after it left").contains("scontrol show job 12");
    }

    @Test
    void theExitFileHoldsOneIntegerAndAnythingElseIsNoCode() {
        assertThat(SlurmModelStates.exitFile("0\n")).contains(0);
        assertThat(SlurmModelStates.exitFile("143\n")).contains(143);
        assertThat(SlurmModelStates.exitFile("")).isEmpty();
        assertThat(SlurmModelStates.exitFile("1\n2\n")).isEmpty();
        assertThat(SlurmModelStates.exitFile("x")).isEmpty();
    }

    @Test
    void anEndStateSqueueStillShowsThatKilledTheScriptEndsTheModelAtOnceWithoutACode() {
        String unknown = "its script wrote no exit code to /exp/sim/sim.exit; sacct failed: disabled";
        ModelState s = SlurmModelStates.leftQueue("12", Optional.empty(), Optional.empty(), Optional.of("TIMEOUT"),
                false, Duration.ZERO, WAIT, unknown).orElseThrow();
        assertThat(s.status()).isEqualTo(EntityStatus.FAILED);
        assertThat(s.exitCode()).isEmpty();
        assertThat(s.detail()).contains("job 12 ended TIMEOUT (squeue) before its model's step did, so there is no "
                + "exit code: " + unknown);
        assertThat(SlurmModelStates.leftQueue("12", Optional.empty(), Optional.empty(), Optional.of("CANCELLED"),
                false, Duration.ZERO, WAIT, unknown).orElseThrow().status()).isEqualTo(EntityStatus.CANCELLED);
        // COMPLETED or FAILED: the script ran to its end, so its file is only late (a shared file system): wait
        assertThat(SlurmModelStates.leftQueue("12", Optional.empty(), Optional.empty(), Optional.of("COMPLETED"),
                false, Duration.ofSeconds(5), WAIT, unknown)).isEmpty();
        assertThat(SlurmModelStates.leftQueue("12", Optional.empty(), Optional.empty(), Optional.of("FAILED"),
                false, WAIT, WAIT, unknown).orElseThrow().detail().orElseThrow())
                .contains("left the queue and reported no exit status", "squeue last showed it FAILED");
        // the exit file, when there is one, wins over the queue's word
        assertThat(SlurmModelStates.leftQueue("12", Optional.of(0), Optional.empty(), Optional.of("CANCELLED"),
                false, Duration.ZERO, WAIT, unknown)).contains(new ModelState(EntityStatus.COMPLETED, Optional.of(0),
                Optional.empty()));
    }
}
