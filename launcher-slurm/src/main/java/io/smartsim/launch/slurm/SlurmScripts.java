package io.smartsim.launch.slurm;

import io.smartsim.launch.batch.BatchModelServers;
import io.smartsim.launch.batch.BatchScripts;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.script.Shell;
import io.smartsim.launch.script.Template;
import io.smartsim.launch.supervise.LeaseGuard;
import io.smartsim.launch.util.ListeningPorts;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Renders the shard wrapper and the batch script from their templates. Pure: returns text, writes nothing. */
public final class SlurmScripts {
    private static final Template WRAPPER = Template.resource(SlurmScripts.class, "shard-wrapper.sh");
    private static final Template BATCH = Template.resource(SlurmScripts.class, "orchestrator.sbatch");
    private static final String NODE_MARK = "\u0000node";

    private SlurmScripts() {
    }

    /** How a model server's wrapper reads on Slurm: the step's node, job and step ids. */
    static final BatchModelServers.Words MODEL_SERVER = new BatchModelServers.Words("${SLURMD_NODENAME:-$(hostname)}",
            "\"${SLURM_JOB_ID:-}\"", "\"${SLURM_STEP_ID:-}\"", "run as a Slurm step of its own on its node",
            "the step");

    /** The wrapper script of a shard, beside its config. */
    public static Path wrapperPath(ShardPlan s) {
        return s.workDir().resolve(s.name() + ".slurm.sh");
    }

    /** The batch script of an orchestrator. */
    public static Path batchPath(LaunchPlan plan) {
        return plan.dir().resolve(plan.id() + ".sbatch");
    }

    /** The batch job's own output; {@code %j} is the job id. */
    public static Path batchOutput(LaunchPlan plan) {
        return plan.dir().resolve(plan.id() + "-%j.out");
    }

    /**
     * The wrapper that starts shard {@code s}: finds the node's addresses (of each of {@code interfaces} when
     * given, else of the node's name), writes the report, then execs {@code serverBinary config --bind ADDR...}
     * (plus {@code cluster-announce-ip} of the first address when clustered).
     */
    public static String wrapper(LaunchPlan plan, ShardPlan s, List<String> interfaces, String serverBinary) {
        Map<String, String> v = BatchScripts.wrapperValues(plan, s, serverBinary);
        v.put("interfaces", Shell.join(interfaces));
        v.put("leaseGuard", BatchScripts.leaseGuard(plan, s, List.of(
                "# --lease: a guard beside the server stops it once the lease is no longer renewed (lease-guard.sh).",
                "# It watches this shell's pid, which the server keeps through exec; it ends with the step.")));
        return WRAPPER.render(v);
    }

    /** The wrapper of an {@code --ai} model server ({@link BatchModelServers#wrapper}), run as its own step. */
    public static String modelServer(LaunchPlan plan, ModelServerPlan m) {
        return BatchModelServers.wrapper(plan, m, MODEL_SERVER, "");
    }

    /**
     * Every script a launch of this plan writes, rendered: the batch script first (batch mode only), the lease guard
     * (with --lease), each shard's wrapper in shard order, each {@code --ai} model server's wrapper, then the port
     * check the wrappers run. Keys are paths relative to {@link LaunchPlan#dir()}.
     */
    public static Map<String, String> all(LaunchPlan plan, SlurmOptions options) {
        Map<String, String> out = new LinkedHashMap<>();
        if (options.batch()) {
            out.put(relative(plan, batchPath(plan)), batch(plan, options));
        }
        if (plan.spec().lease().isPresent()) {
            out.put(relative(plan, LeaseGuard.path(plan)), LeaseGuard.render(plan));
        }
        String binary = BatchScripts.serverBinary(plan);
        for (ShardPlan s : plan.shards()) {
            out.put(relative(plan, wrapperPath(s)), wrapper(plan, s, plan.spec().interfaces(), binary));
        }
        for (ModelServerPlan m : plan.modelServers()) {
            out.put(relative(plan, BatchModelServers.wrapperPath(m)), modelServer(plan, m));
        }
        out.put(ListeningPorts.HELD_SCRIPT, ListeningPorts.heldScript()); // run by each wrapper before its server
        return out;
    }

    private static String relative(LaunchPlan plan, Path p) {
        return plan.dir().relativize(p).toString();
    }

    /**
     * The batch script: the job's directives, then (under {@code --ai} through the module) one backgrounded step per
     * model server and a wait for each one's ready line, then one backgrounded {@code srun} step per shard, then
     * {@code wait}.
     */
    public static String batch(LaunchPlan plan, SlurmOptions options) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("id", plan.id());
        v.put("experiment", plan.experiment());
        v.put("jobName", BatchScripts.jobName(plan));
        v.put("nodes", Integer.toString(plan.spec().nodes()));
        v.put("perNode", Integer.toString(plan.processesPerNode())); // masters and replicas
        List<String> directives = new ArrayList<>();
        int cpus = plan.spec().cpusPerShard();
        if (cpus > 1) {
            directives.add("# cpusPerShard: each task slot (shard) gets this many CPUs, and so does each shard's step.");
            directives.add("#SBATCH --cpus-per-task=" + cpus);
        }
        for (String d : options.directives()) {
            directives.add("#SBATCH " + d);
        }
        v.put("directives", String.join("\n", directives));
        List<String> steps = new ArrayList<>(modelServerSteps(plan));
        for (ShardPlan s : plan.shards()) {
            steps.add(step(s.node(), s.name(), s.workDir(), wrapperPath(s), cpus, BatchScripts.consoleLog(s)));
            if (!plan.modelServers().isEmpty()) {
                steps.add("shard_sruns+=($!)");
            }
        }
        v.put("steps", String.join("\n", steps));
        v.put("tail", tail(plan));
        return BATCH.render(v);
    }

    /**
     * The batch script's model server steps (none without {@code --ai} through the module): each one a step on its
     * node, then a wait until each has printed its ready line in its console; one that ends first, or is not ready
     * within the startup timeout, ends the job with a message naming it (in the job's output, which the launcher
     * shows).
     */
    static List<String> modelServerSteps(LaunchPlan plan) {
        return BatchModelServers.batchStarts(plan, m -> step(BatchModelServers.node(plan, m),
                BatchModelServers.taskName(plan, m), m.workDir(), BatchModelServers.wrapperPath(m), 1, m.console()),
                "each a step of its own", "# The shards, each a step of its own.");
    }

    /** One backgrounded step of the batch script on node slot {@code node}, its output appended to {@code console}. */
    private static String step(int node, String name, Path workDir, Path wrapper, int cpus, Path console) {
        List<String> words = new ArrayList<>();
        for (String arg : SlurmCommands.srunShard(Optional.empty(), NODE_MARK, name, workDir, wrapper, cpus)) {
            words.add(arg.equals("--nodelist=" + NODE_MARK) ? "--nodelist=\"${nodes[" + node + "]}\""
                    : Shell.quote(arg));
        }
        return String.join(" ", words) + " >> " + Shell.quote(console.toString()) + " 2>&1 &";
    }

    /**
     * How the batch script ends. Without {@code --restart}: when its shard steps have all ended. With it, a shard the
     * watchdog restarts is a new step started from outside the script ({@code srun --jobid}), which the job would
     * take down with it once the script's own steps had ended; so the job outlives them, until {@code db stop} (or
     * {@code db cleanup}) cancels it, its time limit, or, with {@code --lease}, the lease running out.
     */
    static String tail(LaunchPlan plan) {
        if (plan.spec().restart() != io.smartsim.launch.spec.RestartPolicy.ON_FAILURE) {
            if (!plan.modelServers().isEmpty()) {
                return "# The job lasts as long as any shard runs; its end ends the --ai model servers' steps.\n"
                        + "wait \"${shard_sruns[@]}\"";
            }
            return "# The job lasts as long as any shard runs.\nwait";
        }
        StringBuilder t = new StringBuilder();
        t.append("# --restart on-failure: shards the watchdog restarts are steps started from outside this script, so\n")
                .append("# the job outlives its own steps: it lasts until db stop cancels it or its time limit");
        if (plan.spec().lease().isPresent()) {
            t.append(",\n# or until the lease has run out (no controller renewed it)");
        }
        t.append(".\nwait\nwhile :; do\n");
        if (plan.spec().lease().isPresent()) {
            String file = Shell.quote(io.smartsim.launch.supervise.Lease.in(plan.dir()).file().toString());
            t.append("    expiry=$(cat ").append(file).append(" 2>/dev/null) || expiry=''\n")
                    .append("    if [ -n \"$expiry\" ] && [ \"$(date +%s)\" -gt \"$expiry\" ]; then exit 0; fi\n");
        }
        t.append("    sleep 10\ndone");
        return t.toString();
    }

}
