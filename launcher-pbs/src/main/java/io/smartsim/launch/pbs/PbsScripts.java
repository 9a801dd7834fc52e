package io.smartsim.launch.pbs;

import io.smartsim.launch.batch.BatchModelServers;
import io.smartsim.launch.batch.BatchScripts;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.planned.ShardPlan;
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

    /** How a model server's wrapper reads on PBS: the node named by its first argument, the job's id, no step. */
    static final BatchModelServers.Words MODEL_SERVER = new BatchModelServers.Words("${1:-$(hostname)}",
            "\"${PBS_JOBID:-}\"", "''", "started on its node by the job's run command (pbsdsh, mpiexec or ssh) with "
            + "the node's name as its argument\n# (and end-with-ssh as its second when started over ssh)",
            "the run command's task");

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

    /** Where the watch of model server {@code m} ({@link #modelServer}) writes why it stopped it. */
    public static Path watchOutput(ModelServerPlan m) {
        return m.workDir().resolve("model-server-" + m.index() + ".watch.out");
    }

    /**
     * The wrapper of an {@code --ai} model server ({@link BatchModelServers#wrapper}), started on its node by the run
     * command like a shard's. PBS sees the job, not its tasks, and a run command over ssh starts no task of the job at
     * all; so the model server ends with its node's shards: a watch beside it stops it once each of them has reported
     * and none of their servers runs any more (stopped, or ended with the job), or, started over ssh, once its ssh
     * session has ended (sshd leaves a command running when its client dies).
     */
    public static String modelServer(LaunchPlan plan, ModelServerPlan m) {
        List<String> reports = m.shards().stream().map(i -> BatchScripts.reportPath(plan.shards().get(i)).toString())
                .toList();
        String watch = String.join("\n",
                "# The model server ends with its node's shards: once each has reported and none of their servers "
                        + "runs any more",
                "# (stopped, or ended with the job), or, started over ssh, once its ssh session has ended (sshd "
                        + "leaves a command",
                "# running when its client dies), a watch beside it stops it: SIGTERM, SIGKILL 10 s later. Its output "
                        + "is its own,",
                "# so the run command's task still ends when the model server does.",
                "server=$$",
                "session=$PPID",
                "(",
                "    reports=(" + Shell.join(reports) + ")",
                "    seen=0",
                "    why=''",
                "    while kill -0 \"$server\" 2>/dev/null; do",
                "        if [ \"${2:-}\" = end-with-ssh ] && ! kill -0 \"$session\" 2>/dev/null; then",
                "            why='its ssh session ended'",
                "            break",
                "        fi",
                "        all=1",
                "        alive=0",
                "        for r in \"${reports[@]}\"; do",
                "            if [ ! -e \"$r\" ]; then all=0; continue; fi",
                "            pid=$(sed -n 's/^pid=//p' \"$r\" 2>/dev/null)",
                "            if [ -n \"$pid\" ] && kill -0 \"$pid\" 2>/dev/null; then alive=1; fi",
                "        done",
                "        if [ \"$all\" = 1 ]; then seen=1; fi",
                "        if [ \"$seen\" = 1 ] && [ \"$alive\" = 0 ]; then",
                "            why=\"the shards of node $node have ended\"",
                "            break",
                "        fi",
                "        sleep 1",
                "    done",
                "    kill -0 \"$server\" 2>/dev/null || exit 0",
                "    echo \"smartsim-launch: $why: stopping the --ai model server " + m.index() + " (pid $server)\"",
                "    kill -TERM \"$server\" 2>/dev/null || exit 0",
                "    for _ in $(seq 10); do",
                "        kill -0 \"$server\" 2>/dev/null || exit 0",
                "        sleep 1",
                "    done",
                "    kill -KILL \"$server\" 2>/dev/null",
                ") >> " + Shell.quote(watchOutput(m).toString()) + " 2>&1 < /dev/null &",
                "");
        return BatchModelServers.wrapper(plan, m, MODEL_SERVER, watch);
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
        List<String> starts = new ArrayList<>(BatchModelServers.batchStarts(plan, m -> {
            List<String> words = new ArrayList<>();
            int node = BatchModelServers.node(plan, m);
            for (String arg : PbsCommands.runShard(run, NODE_MARK, INDEX_MARK, BatchModelServers.wrapperPath(m),
                    options.sshConfig())) {
                words.add(scriptWord(arg, node));
            }
            return String.join(" ", words) + " >> " + Shell.quote(m.console().toString()) + " 2>&1 &";
        }, "each started by " + run.binary() + " like a shard", "# The shards."));
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
