package io.smartsim.launch.pbs;

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
import java.util.regex.Pattern;

/**
 * Pure argv builders and scripts of a model run by PBS: a batch job of its own ({@code <name>.pbs}), or, inside a
 * job, a task script ({@code <name>.task.sh}) that a run command starts on the job's nodes. Nothing here runs or
 * writes anything.
 */
public final class PbsModelScripts {
    private static final Template BATCH = Template.resource(PbsModelScripts.class, "model.pbs");
    private static final Template TASK = Template.resource(PbsModelScripts.class, "model-task.sh");
    /** One word for a {@code #PBS} line: qsub splits directives on white space and knows no quoting. */
    static final Pattern DIRECTIVE_VALUE = Pattern.compile("[^\\s'\"\\\\#]+");

    /**
     * mpiexec options the run settings or the launcher already set: given again in {@code runArgs} they would
     * contradict them, so the launcher refuses them and names the setting to use instead.
     */
    static final Map<String, String> SET_BY_LAUNCHER = Map.ofEntries(
            Map.entry("-n", "tasks"), Map.entry("-np", "tasks"), Map.entry("--n", "tasks"), Map.entry("--np", "tasks"),
            Map.entry("-host", "nodes (the job's first N nodes)"), Map.entry("--host", "nodes (the job's first N nodes)"),
            Map.entry("-hosts", "nodes (the job's first N nodes)"),
            Map.entry("-wdir", "workDir"), Map.entry("-wd", "workDir"), Map.entry("--wdir", "workDir"));

    private PbsModelScripts() {
    }

    /** The batch script of a model, in its directory. */
    public static Path batchPath(ModelPlan plan) {
        return plan.dir().resolve(plan.name() + ".pbs");
    }

    /** The task script a run command starts inside a job, in the model's directory. */
    public static Path taskPath(ModelPlan plan) {
        return plan.dir().resolve(plan.name() + ".task.sh");
    }

    /** Where the batch script writes the model's exit code. */
    public static Path exitPath(ModelPlan plan) {
        return plan.dir().resolve(plan.name() + ".exit");
    }

    /** Where the task script writes the model's pid on its node. */
    public static Path pidPath(ModelPlan plan) {
        return plan.dir().resolve(plan.name() + ".pid");
    }

    /** Submits a model's batch script, its stdout and stderr to the model's two files (arguments: no quoting). */
    public static List<String> qsub(ModelPlan plan) {
        return List.of("qsub", "-o", plan.stdout().toString(), "-e", plan.stderr().toString(),
                batchPath(plan).toString());
    }

    /** Tasks per node: {@code tasksPerNode}, or the tasks spread over the nodes, rounded up. */
    static int perNode(RunSettings r) {
        return r.tasksPerNode().orElse((r.totalTasks() + r.nodes() - 1) / r.nodes());
    }

    /**
     * The {@code #PBS -l} lines that ask for the model's nodes. PBS Pro: one chunk per node with {@code ncpus} =
     * tasks per node x CPUs per task and {@code mpiprocs} = tasks per node, {@code place=scatter} so no two chunks
     * share a host. Torque: {@code nodes=N:ppn=C} with C the CPUs a node's tasks use.
     */
    public static List<String> resources(RunSettings r, Dialect dialect) {
        int perNode = perNode(r);
        int cpus = perNode * r.cpusPerTask();
        if (dialect == Dialect.PRO) {
            return List.of("# One chunk per node; place=scatter keeps chunks on distinct hosts, mpiprocs sets each "
                            + "chunk's lines in PBS_NODEFILE.",
                    "#PBS -l select=" + r.nodes() + ":ncpus=" + cpus + ":mpiprocs=" + perNode,
                    "#PBS -l place=scatter");
        }
        return List.of("# N distinct nodes with C processors each (C lines per node in PBS_NODEFILE).",
                "#PBS -l nodes=" + r.nodes() + ":ppn=" + cpus);
    }

    /** The {@code #PBS} lines of the batch settings, in a fixed order: walltime, queue, account, options. */
    public static List<String> directives(BatchSettings b) {
        List<String> out = new ArrayList<>();
        b.time().ifPresent(t -> out.add("#PBS -l walltime=" + BatchSettings.clock(t)));
        b.partition().ifPresent(q -> out.add("#PBS -q " + q));
        b.account().ifPresent(a -> out.add("#PBS -A " + a));
        b.options().forEach(o -> out.add("#PBS " + o));
        return out;
    }

    /**
     * What the batch script runs: the executable itself for one task without run-command arguments, otherwise
     * {@code mpiexec -n T RUNARGS EXE ARGS} (inside a PBS job mpiexec finds the job's nodes itself); each rank through
     * the colocated database's wrapper when the model has one.
     */
    public static List<String> batchCommand(ModelPlan plan) {
        RunSettings r = plan.run();
        if (r.totalTasks() == 1 && r.runArgs().isEmpty()) {
            return plan.rankArgv();
        }
        List<String> argv = new ArrayList<>(List.of("mpiexec", "-n", Integer.toString(r.totalTasks())));
        argv.addAll(r.runArgs());
        argv.addAll(plan.rankArgv());
        return argv;
    }

    /**
     * The batch script: directives from the run and batch settings, the environment as {@code export} lines
     * ({@code env}: the database variables, then the model's own), then the model in its working directory, its
     * exit code written to {@link #exitPath} and returned.
     */
    public static String batch(ModelPlan plan, Map<String, String> env, Dialect dialect) {
        RunSettings r = plan.run();
        Map<String, String> v = new LinkedHashMap<>();
        v.put("name", plan.name());
        v.put("dialect", dialect.option());
        v.put("resources", String.join("\n", resources(r, dialect)));
        List<String> directives = directives(r.batch().orElse(BatchSettings.defaults()));
        v.put("directives", directives.isEmpty() ? "# (no walltime, queue, account or options: the server's defaults)"
                : String.join("\n", directives));
        v.put("exports", exports(env));
        v.put("workDir", plan.workDir().toString());
        v.put("exitFile", exitPath(plan).toString());
        List<String> command = batchCommand(plan);
        v.put("why", command.get(0).equals("mpiexec") && !plan.exe().equals("mpiexec")
                ? "mpiexec starts the tasks on the job's nodes. MPICH, Intel MPI and PBS Pro pass this environment "
                + "to every rank;\n# Open MPI passes only what -x NAME in runArgs names."
                : "One task: the executable itself, no run command.");
        v.put("command", Shell.join(command));
        return BATCH.render(v);
    }

    /**
     * The task script a run command starts inside job {@code jobId}: the environment, the working directory, its
     * pid in {@link #pidPath}, then exec of the model.
     */
    public static String task(ModelPlan plan, Map<String, String> env, String jobId, RunCommand run) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("name", plan.name());
        v.put("job", jobId);
        v.put("runCommand", run.binary());
        v.put("exports", exports(env));
        v.put("workDir", plan.workDir().toString());
        v.put("pidFile", pidPath(plan).toString());
        v.put("command", Shell.join(plan.rankArgv()));
        return TASK.render(v);
    }

    /**
     * The run command that starts the task script inside a job, given the job's distinct nodes in order.
     * <ul>
     * <li>{@code mpiexec -n T -host n1:P,n2:P RUNARGS bash TASK}: {@code host:slots} is read by MPICH (hydra), Intel
     * MPI and Open MPI alike; P is tasks per node.</li>
     * <li>{@code pbsdsh -n 0 -- bash TASK}: one task on the job's first node (line 0 of {@code PBS_NODEFILE}).</li>
     * <li>{@code ssh -o BatchMode=yes NODE 'bash TASK'}: one task on the job's first node, outside PBS's view.</li>
     * </ul>
     */
    public static List<String> runTask(RunCommand run, ModelPlan plan, List<String> nodes, Optional<Path> sshConfig) {
        RunSettings r = plan.run();
        List<String> argv = new ArrayList<>();
        String task = taskPath(plan).toString();
        switch (run) {
            case MPIEXEC -> {
                List<String> hosts = new ArrayList<>();
                for (String n : nodes.subList(0, r.nodes())) {
                    hosts.add(n + ":" + perNode(r));
                }
                argv.addAll(List.of("mpiexec", "-n", Integer.toString(r.totalTasks()), "-host",
                        String.join(",", hosts)));
                argv.addAll(r.runArgs());
                argv.addAll(List.of("bash", task));
            }
            case PBSDSH -> argv.addAll(List.of("pbsdsh", "-n", "0", "--", "bash", task));
            case SSH -> {
                argv.add("ssh");
                sshConfig.ifPresent(c -> argv.addAll(List.of("-F", c.toString())));
                argv.addAll(List.of("-o", "BatchMode=yes", nodes.get(0), Shell.join(List.of("bash", task))));
            }
        }
        return argv;
    }

    private static String exports(Map<String, String> env) {
        List<String> exports = new ArrayList<>();
        env.forEach((k, val) -> exports.add("export " + k + "=" + Shell.quote(val)));
        return String.join("\n", exports);
    }

    /** The first run-command argument that sets what the run settings set, with the setting to use instead. */
    static Optional<String> conflict(List<String> runArgs) {
        for (String a : runArgs) {
            String opt = a.split("=", 2)[0];
            String instead = SET_BY_LAUNCHER.get(opt);
            if (instead != null) {
                return Optional.of("'" + a + "' sets what the launcher already sets from " + instead
                        + "; use that instead");
            }
        }
        return Optional.empty();
    }
}
