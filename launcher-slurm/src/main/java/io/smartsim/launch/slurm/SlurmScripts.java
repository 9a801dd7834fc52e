package io.smartsim.launch.slurm;

import io.smartsim.launch.batch.BatchScripts;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.plan.ShardPlan;
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

    /**
     * Every script a launch of this plan writes, rendered: the batch script first (batch mode only), the lease guard
     * (with --lease), each shard's wrapper in shard order, then the port check the wrappers run. Keys are paths
     * relative to {@link LaunchPlan#dir()}.
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
        out.put(ListeningPorts.HELD_SCRIPT, ListeningPorts.heldScript()); // run by each wrapper before its server
        return out;
    }

    private static String relative(LaunchPlan plan, Path p) {
        return plan.dir().relativize(p).toString();
    }

    /** The batch script: the job's directives, then one backgrounded {@code srun} step per shard, then {@code wait}. */
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
        List<String> steps = new ArrayList<>();
        for (ShardPlan s : plan.shards()) {
            List<String> words = new ArrayList<>();
            for (String arg : SlurmCommands.srunShard(Optional.empty(), NODE_MARK, s.name(), s.workDir(),
                    wrapperPath(s), cpus)) {
                words.add(arg.equals("--nodelist=" + NODE_MARK) ? "--nodelist=\"${nodes[" + s.node() + "]}\""
                        : Shell.quote(arg));
            }
            steps.add(String.join(" ", words) + " >> " + Shell.quote(BatchScripts.consoleLog(s).toString()) + " 2>&1 &");
        }
        v.put("steps", String.join("\n", steps));
        v.put("tail", tail(plan));
        return BATCH.render(v);
    }

    /**
     * How the batch script ends. Without {@code --restart}: when its shard steps have all ended. With it, a shard the
     * watchdog restarts is a new step started from outside the script ({@code srun --jobid}), which the job would
     * take down with it once the script's own steps had ended; so the job outlives them, until {@code db stop} (or
     * {@code db cleanup}) cancels it, its time limit, or, with {@code --lease}, the lease running out.
     */
    static String tail(LaunchPlan plan) {
        if (plan.spec().restart() != io.smartsim.launch.spec.RestartPolicy.ON_FAILURE) {
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
