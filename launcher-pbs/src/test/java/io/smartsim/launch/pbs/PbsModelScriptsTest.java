package io.smartsim.launch.pbs;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.BatchSettings;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.entity.ModelPlanner;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spec.RunSettings;
import io.smartsim.launch.exec.LocalCommandRunner;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A PBS model's qsub and run-command argv and its scripts (golden, both dialects), pure; the launcher's checks. */
class PbsModelScriptsTest {
    private static final Map<String, String> DB_ENV = dbEnv();

    private static Map<String, String> dbEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SSDB", "10.0.0.1:6780,10.0.0.2:6780,10.0.0.3:6780");
        env.put("SR_DB_TYPE", "Clustered");
        env.put("SSDB_USER", "smartsim");
        env.put("SSDB_PASSWORD", "p'w$d");
        env.put("OMP_NUM_THREADS", "2");
        return env;
    }

    private static ModelPlan plan(RunSettings run) {
        return ModelPlanner.plan(Path.of("/exp"), ModelSpec.builder("sim", "/apps/my sim/sim").launcher("pbs")
                .args("--alpha", "0.1", "it's").env("OMP_NUM_THREADS", "2").run(run).build());
    }

    private static final BatchSettings ALL = new BatchSettings(Optional.of(Duration.ofMinutes(90)),
            Optional.of("proj1"), Optional.of("debug"), Optional.empty(), List.of("-l mem=4gb", "-m n"));

    private static PbsModelLauncher launcher(Map<String, String> env, Optional<RunCommand> run) {
        return new PbsModelLauncher(new LocalCommandRunner(), env, Optional.of(Dialect.TORQUE), run, Optional.empty());
    }

    @Test
    void aBatchJobWithEverySettingInThePbsProDialect() {
        ModelPlan p = plan(RunSettings.builder().nodes(3).tasks(5).cpusPerTask(2).runArgs(List.of("-bind-to", "core"))
                .batch(ALL).build());
        Golden.assertMatches("model-batch-pro-3x5-all.pbs", PbsModelScripts.batch(p, DB_ENV, Dialect.PRO));
    }

    @Test
    void aBatchJobWithEverySettingInTheTorqueDialect() {
        ModelPlan p = plan(RunSettings.builder().nodes(3).tasks(5).cpusPerTask(2).runArgs(List.of("-bind-to", "core"))
                .batch(ALL).build());
        Golden.assertMatches("model-batch-torque-3x5-all.pbs", PbsModelScripts.batch(p, DB_ENV, Dialect.TORQUE));
    }

    @Test
    void oneTaskWithDefaultBatchSettingsRunsTheExecutableItself() {
        ModelPlan p = plan(RunSettings.builder().batch(BatchSettings.defaults()).build());
        Golden.assertMatches("model-batch-torque-defaults.pbs", PbsModelScripts.batch(p, DB_ENV, Dialect.TORQUE));
        assertThat(PbsModelScripts.batchCommand(p)).containsExactly("/apps/my sim/sim", "--alpha", "0.1", "it's");
    }

    @Test
    void resourcesForBothDialects() {
        RunSettings r = RunSettings.builder().nodes(2).tasksPerNode(4).cpusPerTask(3).build();
        assertThat(PbsModelScripts.resources(r, Dialect.PRO)).endsWith("#PBS -l select=2:ncpus=12:mpiprocs=4",
                "#PBS -l place=scatter");
        assertThat(PbsModelScripts.resources(r, Dialect.TORQUE)).endsWith("#PBS -l nodes=2:ppn=12");
    }

    @Test
    void qsubSendsStdoutAndStderrToTheModelsFiles() {
        assertThat(PbsModelScripts.qsub(plan(RunSettings.builder().batch(ALL).build()))).containsExactly("qsub", "-o",
                "/exp/sim/sim.out", "-e", "/exp/sim/sim.err", "/exp/sim/sim.pbs");
    }

    @Test
    void theTaskScriptInAJob() {
        Golden.assertMatches("model-task-mpiexec.sh", PbsModelScripts.task(plan(RunSettings.defaults()), DB_ENV,
                "42.server", RunCommand.MPIEXEC));
    }

    @Test
    void runCommandsInAJob() {
        ModelPlan multi = plan(RunSettings.builder().nodes(2).tasks(6).runArgs(List.of("-bind-to", "core")).build());
        assertThat(PbsModelScripts.runTask(RunCommand.MPIEXEC, multi, List.of("n1", "n2", "n3"), Optional.empty()))
                .containsExactly("mpiexec", "-n", "6", "-host", "n1:3,n2:3", "-bind-to", "core", "bash",
                        "/exp/sim/sim.task.sh");
        ModelPlan one = plan(RunSettings.defaults());
        assertThat(PbsModelScripts.runTask(RunCommand.PBSDSH, one, List.of("n1"), Optional.empty()))
                .containsExactly("pbsdsh", "-n", "0", "--", "bash", "/exp/sim/sim.task.sh");
        assertThat(PbsModelScripts.runTask(RunCommand.SSH, one, List.of("n2", "n3"), Optional.of(Path.of("/c/ssh config"))))
                .containsExactly("ssh", "-F", "/c/ssh config", "-o", "BatchMode=yes", "n2", "bash /exp/sim/sim.task.sh");
    }

    @Test
    void renderShowsQsubAndTheScriptWithoutWritingIt() {
        ModelPlan p = plan(RunSettings.builder().batch(ALL).build());
        var r = launcher(Map.of(), Optional.empty()).render(p, DB_ENV);
        assertThat(r.argv()).first().isEqualTo("qsub");
        assertThat(r.scripts()).containsOnlyKeys("/exp/sim/sim.pbs");
        assertThat(Path.of("/exp/sim/sim.pbs")).doesNotExist();
    }

    @Test
    void refusesWhatPbsCannotHonour() {
        PbsModelLauncher l = launcher(Map.of(), Optional.empty());
        assertThatThrownBy(() -> l.validate(plan(RunSettings.builder().batch(new BatchSettings(Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.of("high"), List.of())).build())))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("run.batch.qos")
                .hasMessageContaining("PBS has no QOS ('high')");
        assertThatThrownBy(() -> l.validate(plan(RunSettings.builder().batch(new BatchSettings(Optional.empty(),
                Optional.of("my proj"), Optional.empty(), Optional.empty(), List.of())).build())))
                .hasMessageContaining("run.batch.account").hasMessageContaining("'my proj' cannot be a #PBS value");
        assertThatThrownBy(() -> l.validate(plan(RunSettings.builder().batch(new BatchSettings(Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty(), List.of("#PBS -l mem=4gb"))).build())))
                .hasMessageContaining("run.batch.options").hasMessageContaining("is not one qsub option");
        assertThatThrownBy(() -> l.validate(plan(RunSettings.builder().runArgs(List.of("-np", "4")).batch(ALL).build())))
                .hasMessageContaining("run.runArgs").hasMessageContaining("'-np' sets what the launcher already sets "
                        + "from tasks");
        assertThatThrownBy(() -> l.validate(plan(RunSettings.defaults()))).hasMessageContaining("run.alloc")
                .hasMessageContaining("PBS_JOBID is not set");
        PbsModelLauncher inJob = launcher(Map.of("PBS_JOBID", "42.server", "PBS_NODEFILE", "/var/spool/42"),
                Optional.of(RunCommand.PBSDSH));
        assertThatThrownBy(() -> inJob.validate(plan(RunSettings.builder().tasks(4).build())))
                .hasMessageContaining("run.tasks").hasMessageContaining("the run command pbsdsh starts one task here");
        PbsModelLauncher outside = launcher(Map.of(), Optional.empty());
        assertThatThrownBy(() -> outside.validate(plan(RunSettings.builder().nodes(2).alloc("42").build())))
                .hasMessageContaining("from outside job 42: only ssh reaches its nodes");
    }

    /**
     * Issue 17: with a colocated database each rank runs through its wrapper: the batch job's one task, each of
     * mpiexec's ranks, the task script of a model in a job; and the dry run shows the wrapper and the config.
     */
    @Test
    void withAColocatedDatabaseEveryRankRunsThroughTheWrapper() {
        ModelSpec.Builder spec = ModelSpec.builder("sim", "/apps/sim").launcher("pbs")
                .colocatedDb(io.smartsim.launch.spec.ColocatedDb.tcp(6780));
        ModelPlan one = ModelPlanner.plan(Path.of("/exp"), spec.run(RunSettings.builder()
                .batch(BatchSettings.defaults()).build()).build());
        assertThat(PbsModelScripts.batchCommand(one)).containsExactly("bash", "/exp/sim/colocated.sh", "/apps/sim");
        ModelPlan four = ModelPlanner.plan(Path.of("/exp"), spec.run(RunSettings.builder().nodes(2).tasks(4)
                .batch(BatchSettings.defaults()).build()).build());
        assertThat(PbsModelScripts.batchCommand(four)).containsExactly("mpiexec", "-n", "4", "bash",
                "/exp/sim/colocated.sh", "/apps/sim");
        assertThat(PbsModelScripts.task(one, Map.of(), "12.pbs", RunCommand.SSH))
                .contains("bash /exp/sim/colocated.sh /apps/sim");
        assertThat(launcher(Map.of(), Optional.empty()).render(one, DB_ENV).scripts())
                .containsKeys("/exp/sim/colocated.sh", "/exp/sim/colocated.conf", "/exp/sim/sim.pbs");
    }
}
