package io.smartsim.launch.slurm;

import io.smartsim.launch.spec.BatchSettings;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.spec.RunSettings;
import io.smartsim.launch.script.Shell;
import io.smartsim.launch.script.Template;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Pure argv builders and the batch script of a model run by Slurm: an srun step inside an allocation, or a batch
 * job of its own whose one step runs every task. Nothing here runs or writes anything.
 */
public final class SlurmModelScripts {
    private static final Template BATCH = Template.resource(SlurmModelScripts.class, "model.sbatch");

    /**
     * srun options that the run settings or the launcher already set: given again in {@code runArgs} they would
     * silently override (srun takes the last), so the launcher refuses them and names the setting to use instead.
     */
    static final Map<String, String> SET_BY_LAUNCHER = Map.ofEntries(
            Map.entry("-N", "nodes"), Map.entry("--nodes", "nodes"),
            Map.entry("-n", "tasks"), Map.entry("--ntasks", "tasks"),
            Map.entry("--ntasks-per-node", "tasksPerNode"),
            Map.entry("-c", "cpusPerTask"), Map.entry("--cpus-per-task", "cpusPerTask"),
            Map.entry("--jobid", "alloc"), Map.entry("-J", "the model's name"), Map.entry("--job-name", "the model's name"),
            Map.entry("-D", "workDir"), Map.entry("--chdir", "workDir"),
            Map.entry("-o", "the experiment directory (stdout goes to <name>.out)"),
            Map.entry("--output", "the experiment directory (stdout goes to <name>.out)"),
            Map.entry("-e", "the experiment directory (stderr goes to <name>.err)"),
            Map.entry("--error", "the experiment directory (stderr goes to <name>.err)"));

    private SlurmModelScripts() {
    }

    /**
     * The model as one srun step: {@code srun [--jobid=J] --nodes=N --ntasks=T [--ntasks-per-node=P]
     * --cpus-per-task=C [--job-name=S] [--chdir=D] RUNARGS... EXE ARGS...}. {@code jobId} is given when starting
     * in an allocation from outside its batch script; {@code stepName} and {@code chdir} are left out inside the
     * model's own batch script (the job has both).
     */
    public static List<String> srun(Optional<String> jobId, Optional<String> stepName, Optional<Path> chdir,
                                    RunSettings run, List<String> command) {
        List<String> argv = new ArrayList<>();
        argv.add("srun");
        jobId.ifPresent(j -> argv.add("--jobid=" + j));
        argv.add("--nodes=" + run.nodes());
        argv.add("--ntasks=" + run.totalTasks());
        run.tasksPerNode().ifPresent(t -> argv.add("--ntasks-per-node=" + t));
        argv.add("--cpus-per-task=" + run.cpusPerTask());
        stepName.ifPresent(n -> argv.add("--job-name=" + n));
        chdir.ifPresent(d -> argv.add("--chdir=" + d));
        argv.addAll(run.runArgs());
        argv.addAll(command);
        return argv;
    }

    /** The step of a model in an allocation, named after the model and run in its working directory. */
    public static List<String> srun(String jobId, ModelPlan plan) {
        return srun(Optional.of(jobId), Optional.of(plan.name()), Optional.of(plan.workDir()), plan.run(),
                plan.rankArgv());
    }

    /** Submits a model's batch script; the directory and the two output files as arguments, so paths need no quoting. */
    public static List<String> sbatch(ModelPlan plan) {
        return List.of("sbatch", "--parsable", "--chdir=" + plan.workDir(), "--output=" + plan.stdout(),
                "--error=" + plan.stderr(), batchPath(plan).toString());
    }

    /** The batch script of a model, in its directory. */
    public static Path batchPath(ModelPlan plan) {
        return plan.dir().resolve(plan.name() + ".sbatch");
    }

    /**
     * Where the batch script writes the model's exit code, beside its output on the file system the nodes share:
     * the launcher reads it once the job has left the queue (sacct needs accounting, which a cluster may not keep).
     */
    public static Path exitPath(ModelPlan plan) {
        return plan.dir().resolve(plan.name() + ".exit");
    }

    /**
     * The batch script: directives from the run and batch settings, the environment as {@code export} lines
     * ({@code env}: the database variables, then the model's own), then one srun step with every task, whose exit
     * code the script writes to {@link #exitPath} and exits with.
     */
    public static String batch(ModelPlan plan, Map<String, String> env) {
        RunSettings r = plan.run();
        BatchSettings b = r.batch().orElse(BatchSettings.defaults());
        Map<String, String> v = new LinkedHashMap<>();
        v.put("name", plan.name());
        v.put("nodes", Integer.toString(r.nodes()));
        v.put("tasks", Integer.toString(r.totalTasks()));
        List<String> directives = new ArrayList<>();
        r.tasksPerNode().ifPresent(t -> directives.add("#SBATCH --ntasks-per-node=" + t));
        directives.add("#SBATCH --cpus-per-task=" + r.cpusPerTask());
        b.time().ifPresent(t -> directives.add("#SBATCH --time=" + BatchSettings.clock(t)));
        b.account().ifPresent(a -> directives.add("#SBATCH --account=" + a));
        b.partition().ifPresent(p -> directives.add("#SBATCH --partition=" + p));
        b.qos().ifPresent(q -> directives.add("#SBATCH --qos=" + q));
        for (String o : b.options()) {
            directives.add("#SBATCH " + o);
        }
        v.put("directives", String.join("\n", directives));
        List<String> exports = new ArrayList<>();
        env.forEach((k, val) -> exports.add("export " + k + "=" + Shell.quote(val)));
        v.put("exports", String.join("\n", exports));
        v.put("exitFile", exitPath(plan).toString());
        v.put("step", Shell.join(srun(Optional.empty(), Optional.empty(), Optional.empty(), r, plan.rankArgv())));
        return BATCH.render(v);
    }

    /** The first run-command argument that sets what the run settings set, with the setting to use instead. */
    static Optional<String> conflict(List<String> runArgs) {
        for (String a : runArgs) {
            String opt = a.startsWith("--") ? a.split("=", 2)[0] : a.length() >= 2 && a.startsWith("-") ? a.substring(0, 2)
                    : a;
            String instead = SET_BY_LAUNCHER.get(opt);
            if (instead != null) {
                return Optional.of("'" + a + "' sets what the launcher already sets from " + instead
                        + "; use that instead");
            }
        }
        return Optional.empty();
    }

    /**
     * The ids {@code scancel} takes for these handles, in order, without repeats: a batch model's job, an
     * in-allocation model's step (one whose step id is not known yet has none: its srun is terminated instead).
     */
    static List<String> cancelIds(List<Map<String, String>> handles) {
        Set<String> ids = new java.util.LinkedHashSet<>();
        for (Map<String, String> h : handles) {
            String job = h.get(SlurmModelLauncher.JOB);
            if (job == null) {
                continue;
            }
            String step = h.get(SlurmModelLauncher.STEP);
            if (SlurmModelLauncher.MODE_BATCH.equals(h.get(SlurmModelLauncher.MODE))) {
                ids.add(job);
            } else if (step != null) {
                ids.add(job + "." + step); // never the bare job id: that is the user's allocation
            }
        }
        return List.copyOf(ids);
    }
}
