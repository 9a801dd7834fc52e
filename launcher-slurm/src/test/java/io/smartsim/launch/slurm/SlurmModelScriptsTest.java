package io.smartsim.launch.slurm;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.BatchSettings;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.entity.ModelPlanner;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spec.RunSettings;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.spi.RenderedLaunch;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The model's srun and sbatch argv and its batch script, pure; the launcher's validation and dry-run render. */
class SlurmModelScriptsTest {
    private static final Map<String, String> DB_ENV = dbEnv();

    private static Map<String, String> dbEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SSDB", "10.0.0.1:6780,10.0.0.2:6780,10.0.0.3:6780");
        env.put("SR_DB_TYPE", "Clustered");
        return env;
    }

    private static ModelPlan plan(RunSettings run) {
        return ModelPlanner.plan(Path.of("/exp"), ModelSpec.builder("sim", "/apps/my sim/sim").launcher("slurm")
                .args("--alpha", "0.1", "it's").env("OMP_NUM_THREADS", "2").env("NOTE", "a \"quoted\" $HOME")
                .run(run).build());
    }

    private static SlurmModelLauncher launcher(Map<String, String> env) {
        return new SlurmModelLauncher(new LocalCommandRunner(), env);
    }

    @Test
    void aStepInAnAllocationAsksForEveryRunSettingThenTheRunArgsThenTheCommand() {
        ModelPlan p = plan(RunSettings.builder().nodes(2).tasksPerNode(2).cpusPerTask(4).runArgs(List.of(
                "--exclusive", "--mpi=pmix")).build());
        assertThat(SlurmModelScripts.srun("77", p)).containsExactly("srun", "--jobid=77", "--nodes=2", "--ntasks=4",
                "--ntasks-per-node=2", "--cpus-per-task=4", "--job-name=sim", "--chdir=/exp/sim", "--exclusive",
                "--mpi=pmix", "/apps/my sim/sim", "--alpha", "0.1", "it's");
    }

    @Test
    void theDefaultsAreOneNodeOneTaskOneCpu() {
        assertThat(SlurmModelScripts.srun("77", plan(RunSettings.defaults()))).containsExactly("srun",
                "--jobid=77", "--nodes=1", "--ntasks=1", "--cpus-per-task=1", "--job-name=sim", "--chdir=/exp/sim",
                "/apps/my sim/sim", "--alpha", "0.1", "it's");
    }

    @Test
    void sbatchSendsStdoutAndStderrToTheModelsFiles() {
        ModelPlan p = plan(RunSettings.builder().batch(BatchSettings.defaults()).build());
        assertThat(SlurmModelScripts.sbatch(p)).containsExactly("sbatch", "--parsable", "--chdir=/exp/sim",
                "--output=/exp/sim/sim.out", "--error=/exp/sim/sim.err", "/exp/sim/sim.sbatch");
    }

    @Test
    void batchScriptWithEverySetting() {
        ModelPlan p = plan(RunSettings.builder().nodes(3).tasks(5).cpusPerTask(2).runArgs(List.of("--mpi=pmix"))
                .batch(new BatchSettings(Optional.of(Duration.ofMinutes(90)), Optional.of("proj1"),
                        Optional.of("debug"), Optional.of("high"), List.of("--mem=4G", "--exclusive"))).build());
        Map<String, String> env = new LinkedHashMap<>(DB_ENV);
        env.putAll(p.env());
        Golden.assertMatches("model-batch-all.sbatch", SlurmModelScripts.batch(p, env));
    }

    @Test
    void batchScriptWithTheDefaults() {
        ModelPlan p = plan(RunSettings.builder().tasksPerNode(2).batch(BatchSettings.defaults()).build());
        Golden.assertMatches("model-batch-defaults.sbatch", SlurmModelScripts.batch(p, DB_ENV));
    }

    @Test
    void aDryRunShowsTheStepInTheCurrentAllocation() {
        ModelPlan p = plan(RunSettings.defaults());
        RenderedLaunch r = launcher(Map.of("SLURM_JOB_ID", "123")).render(p, DB_ENV);
        assertThat(r.argv()).isEqualTo(SlurmModelScripts.srun("123", p));
        assertThat(r.env()).containsExactly(Map.entry("SSDB", DB_ENV.get("SSDB")), Map.entry("SR_DB_TYPE",
                "Clustered"), Map.entry("OMP_NUM_THREADS", "2"), Map.entry("NOTE", "a \"quoted\" $HOME"));
        assertThat(r.scripts()).isEmpty();
    }

    @Test
    void aNamedAllocationWinsOverTheCurrentOne() {
        ModelPlan p = plan(RunSettings.builder().alloc("456").build());
        assertThat(launcher(Map.of("SLURM_JOB_ID", "123")).render(p, DB_ENV).argv()).contains("--jobid=456")
                .doesNotContain("--jobid=123");
    }

    @Test
    void aDryRunOfABatchModelShowsTheScriptItWouldWrite() {
        ModelPlan p = plan(RunSettings.builder().batch(BatchSettings.defaults()).build());
        RenderedLaunch r = launcher(Map.of()).render(p, DB_ENV);
        assertThat(r.argv()).isEqualTo(SlurmModelScripts.sbatch(p));
        assertThat(r.scripts()).containsOnlyKeys("/exp/sim/sim.sbatch");
        assertThat(r.scripts().get("/exp/sim/sim.sbatch")).isEqualTo(SlurmModelScripts.batch(p, r.env()));
    }

    @Test
    void aStepOutsideAnyAllocationIsRefusedWithWhatToDo() {
        assertThatThrownBy(() -> launcher(Map.of()).validate(plan(RunSettings.defaults())))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("run.alloc")
                .hasMessageContaining("SLURM_JOB_ID is not set")
                .hasMessageContaining("run.batch");
    }

    @Test
    void runArgsThatRepeatARunSettingAreRefusedNamingTheSetting() {
        SlurmModelLauncher l = launcher(Map.of("SLURM_JOB_ID", "1"));
        assertThatThrownBy(() -> l.validate(plan(RunSettings.builder().runArgs(List.of("--exclusive", "--ntasks=8"))
                .build()))).isInstanceOf(InvalidSpecException.class).hasMessageContaining("run.runArgs")
                .hasMessageContaining("'--ntasks=8' sets what the launcher already sets from tasks");
        assertThatThrownBy(() -> l.validate(plan(RunSettings.builder().runArgs(List.of("-N2")).build())))
                .hasMessageContaining("from nodes");
        assertThatThrownBy(() -> l.validate(plan(RunSettings.builder().runArgs(List.of("--output=x")).build())))
                .hasMessageContaining("stdout goes to <name>.out");
        l.validate(plan(RunSettings.builder().runArgs(List.of("--exclusive", "--cpu-bind=cores", "--mpi=pmix"))
                .build()));
    }

    @Test
    void allocAndBatchTogetherAreRefused() {
        assertThatThrownBy(() -> RunSettings.builder().alloc("12").batch(BatchSettings.defaults()).build())
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("run.alloc")
                .hasMessageContaining("not both");
        assertThatThrownBy(() -> RunSettings.builder().alloc("12a").build())
                .hasMessageContaining("'12a' is not a job id");
    }

    @Test
    void stopCancelsStepsAndBatchJobsButNeverTheAllocationItself() {
        assertThat(SlurmModelScripts.cancelIds(List.of(
                Map.of(SlurmModelLauncher.JOB, "77", SlurmModelLauncher.STEP, "3", SlurmModelLauncher.MODE, "alloc"),
                Map.of(SlurmModelLauncher.JOB, "77", SlurmModelLauncher.MODE, "alloc"), // step id never learnt
                Map.of(SlurmModelLauncher.JOB, "80", SlurmModelLauncher.MODE, "batch"),
                Map.of(SlurmModelLauncher.JOB, "80", SlurmModelLauncher.MODE, "batch"))))
                .containsExactly("77.3", "80");
    }
}
