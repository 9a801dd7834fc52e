package io.smartsim.launch.pbs;

import io.smartsim.launch.batch.BatchScripts;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.plan.ShardPlan;
import io.smartsim.launch.script.Shell;
import io.smartsim.launch.script.Template;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Renders the shard wrapper and the qsub script from their templates. Pure: returns text, writes nothing. */
public final class PbsScripts {
    private static final Template WRAPPER = Template.resource(PbsScripts.class, "shard-wrapper.sh");
    private static final Template BATCH = Template.resource(PbsScripts.class, "orchestrator.pbs");
    private static final String NODE_MARK = "\u0000node";
    private static final String INDEX_MARK = "\u0000index";

    private PbsScripts() {
    }

    /** The wrapper script of a shard, beside its config. */
    public static Path wrapperPath(ShardPlan s) {
        return s.workDir().resolve(s.name() + ".pbs.sh");
    }

    /** The qsub script of an orchestrator. */
    public static Path batchPath(LaunchPlan plan) {
        return plan.dir().resolve(plan.id() + ".pbs");
    }

    /** The batch job's own output (stdout and stderr joined). */
    public static Path batchOutput(LaunchPlan plan) {
        return plan.dir().resolve(plan.id() + ".pbs.out");
    }

    /**
     * The wrapper that starts shard {@code s}: finds the address of the node named by its first argument (of
     * {@code interfaceName} when given), writes the report, then execs {@code serverBinary config --bind ADDR}
     * (plus {@code cluster-announce-ip} when clustered).
     */
    public static String wrapper(LaunchPlan plan, ShardPlan s, Optional<String> interfaceName, String serverBinary) {
        Map<String, String> v = BatchScripts.wrapperValues(plan, s, serverBinary);
        v.put("interface", interfaceName.orElse(""));
        v.put("watchOutput", BatchScripts.consoleLog(s).toString());
        v.put("leaseGuard", BatchScripts.leaseGuard(plan, s, List.of(
                "# --lease: a guard beside the server stops it once the lease is no longer renewed (lease-guard.sh, on",
                "# the shared file system). It watches this shell's pid, which the server keeps through exec, and ends",
                "# with it; its output is its own, so the run command's task still ends when the server does.")));
        return WRAPPER.render(v);
    }

    /**
     * The {@code #PBS -l} lines that ask for the nodes. PBS Pro: one chunk per node, {@code ncpus} = shards x CPUs
     * per shard, {@code mpiprocs} = shards (the chunk's lines in {@code PBS_NODEFILE}), {@code place=scatter} so no
     * two chunks share a host. Torque: {@code nodes=N:ppn=C} with C the CPUs the node's shards use.
     */
    public static List<String> resources(LaunchPlan plan, Dialect dialect) {
        int nodes = plan.spec().nodes();
        int perNode = plan.processesPerNode(); // masters and the replicas placed on the node
        int cpus = perNode * plan.spec().cpusPerShard();
        if (dialect == Dialect.PRO) {
            return List.of("# One chunk per node; place=scatter keeps chunks on distinct hosts, mpiprocs sets each "
                            + "chunk's lines in PBS_NODEFILE.",
                    "#PBS -l select=" + nodes + ":ncpus=" + cpus + ":mpiprocs=" + perNode,
                    "#PBS -l place=scatter");
        }
        return List.of("# N distinct nodes with C processors each (C lines per node in PBS_NODEFILE).",
                "#PBS -l nodes=" + nodes + ":ppn=" + cpus);
    }

    /** The {@code #PBS} lines the options add, in a fixed order. */
    public static List<String> directives(PbsOptions options) {
        List<String> out = new ArrayList<>();
        options.time().ifPresent(t -> out.add("#PBS -l walltime=" + t));
        options.queue().ifPresent(q -> out.add("#PBS -q " + q));
        options.account().ifPresent(a -> out.add("#PBS -A " + a));
        options.pbsLines().forEach(l -> out.add("#PBS " + l));
        return out;
    }

    /** The qsub script: directives, the job's nodes from PBS_NODEFILE, one backgrounded run command per shard, wait. */
    public static String batch(LaunchPlan plan, PbsOptions options, Dialect dialect, RunCommand run) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("id", plan.id());
        v.put("experiment", plan.experiment());
        v.put("dialect", dialect.option());
        v.put("runCommand", run.binary());
        v.put("jobName", BatchScripts.jobName(plan));
        v.put("nodes", Integer.toString(plan.spec().nodes()));
        v.put("resources", String.join("\n", resources(plan, dialect)));
        v.put("directives", String.join("\n", directives(options)));
        List<String> starts = new ArrayList<>();
        List<String> stops = new ArrayList<>();
        for (ShardPlan s : plan.shards()) {
            List<String> words = new ArrayList<>();
            for (String arg : PbsCommands.runShard(run, NODE_MARK, INDEX_MARK, wrapperPath(s), options.sshConfig())) {
                words.add(scriptWord(arg, s.node()));
            }
            starts.add(String.join(" ", words) + " >> " + Shell.quote(BatchScripts.consoleLog(s).toString()) + " 2>&1 &");
            if (run == RunCommand.SSH) {
                List<String> kill = new ArrayList<>();
                List<String> argv = PbsCommands.sshKill(options.sshConfig(), NODE_MARK, 0);
                for (String arg : argv.subList(0, argv.size() - 1)) {
                    kill.add(scriptWord(arg, s.node()));
                }
                kill.add("\"kill $pid\"");
                stops.add("    pid=$(sed -n 's/^pid=//p' " + Shell.quote(BatchScripts.reportPath(s).toString()) + " 2>/dev/null)");
                // Side by side: PBS sends SIGKILL after its kill delay (5 s on the testbed), one ssh after another
                // could run past it and leave the last shards running.
                stops.add("    [ -n \"$pid\" ] && { " + String.join(" ", kill) + " & kills+=($!); }");
            }
        }
        if (stops.isEmpty()) {
            stops.add("    : # " + run.binary() + " started the shards as tasks of the job: PBS ends them");
        } else {
            stops.add(0, "    kills=()");
            stops.add("    [ ${#kills[@]} -eq 0 ] || wait \"${kills[@]}\"");
        }
        v.put("starts", String.join("\n", starts));
        v.put("stopShards", String.join("\n", stops));
        return BATCH.render(v);
    }

    /** One argv word for the script: the node and node index markers become the script's own arrays. */
    private static String scriptWord(String arg, int node) {
        String nodeExpansion = "${nodes[" + node + "]}";
        if (arg.equals(NODE_MARK)) {
            return "\"" + nodeExpansion + "\"";
        }
        if (arg.equals(INDEX_MARK)) {
            return "\"${first[" + node + "]}\"";
        }
        int mark = arg.indexOf(NODE_MARK);
        if (mark >= 0) {
            // ssh's remote command, already quoted for the remote shell: only the node name is the script's.
            return Shell.doubleQuoted(arg.substring(0, mark), nodeExpansion,
                    arg.substring(mark + NODE_MARK.length()));
        }
        return Shell.quote(arg);
    }
}
