package io.smartsim.launch.batch;

import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.plan.PlanFiles;
import io.smartsim.launch.plan.ShardPlan;
import io.smartsim.launch.script.Shell;
import io.smartsim.launch.cluster.Landing;
import io.smartsim.launch.supervise.LeaseGuard;
import io.smartsim.launch.util.ListeningPorts;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every batch scheduler's shard wrapper and batch script share: the files beside a shard, the job's name, and
 * the template values every wrapper uses. Pure: returns paths and text, writes nothing. Each scheduler's own template
 * adds how its node is named and how its address is found.
 */
public final class BatchScripts {
    private BatchScripts() {
    }

    /** Where the wrapper reports the address, port and node of its shard (and what else its scheduler adds). */
    public static Path reportPath(ShardPlan s) {
        return s.workDir().resolve(s.name() + ".where");
    }

    /** A shard's lease guard's own output ({@code --lease}), beside its log. */
    public static Path leaseOutput(ShardPlan s) {
        return s.workDir().resolve(s.name() + ".lease.out");
    }

    /** The run command's own output for a shard (and the wrapper's before exec), beside the shard's log. */
    public static Path consoleLog(ShardPlan s) {
        return PlanFiles.consoleLog(s);
    }

    /** The job name of a batch orchestrator: experiment and id, both already restricted to safe characters. */
    public static String jobName(LaunchPlan plan) {
        return plan.experiment() + "." + plan.id();
    }

    /** The server a wrapper execs: the spec's explicit binary, else the backend's name looked up on the node's PATH. */
    public static String serverBinary(LaunchPlan plan) {
        return plan.spec().serverBinary().map(Path::toString).orElse(plan.spec().backend().binaryName());
    }

    /**
     * The values of a shard wrapper template that every scheduler's has: {@code index}, {@code shard}, {@code id},
     * {@code report} (its path), {@code fail} ({@link Landing#WRAPPER_FAIL}), {@code port}, {@code portCheck} (of the
     * addresses in the bash array {@code addrs}), {@code server} (the argv it execs, with {@code serverBinary}) and
     * {@code announce} (the cluster's announced address, when clustered).
     */
    public static Map<String, String> wrapperValues(LaunchPlan plan, ShardPlan s, String serverBinary) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("index", Integer.toString(s.index()));
        v.put("shard", s.name());
        v.put("id", plan.id());
        v.put("report", reportPath(s).toString());
        v.put("fail", Landing.WRAPPER_FAIL);
        v.put("port", Integer.toString(s.port()));
        v.put("portCheck", ListeningPorts.wrapperCheck(AiPlanner.ports(plan, s.port()), "addrs",
                plan.dir().resolve(ListeningPorts.HELD_SCRIPT)));
        List<String> argv = new ArrayList<>(s.argv());
        argv.set(0, serverBinary);
        v.put("server", Shell.join(argv));
        v.put("announce", plan.clustered() ? " --cluster-announce-ip \"$addr\"" : "");
        return v;
    }

    /**
     * The wrapper's lines that start the lease guard beside the server under {@code --lease} (empty without): the
     * scheduler's {@code comment} lines, then the guard in the background watching the wrapper's pid, which the server
     * keeps through exec, its output in {@link #leaseOutput}.
     */
    public static String leaseGuard(LaunchPlan plan, ShardPlan s, List<String> comment) {
        if (plan.spec().lease().isEmpty()) {
            return "";
        }
        List<String> lines = new ArrayList<>(comment);
        lines.add("/bin/bash " + Shell.quote(LeaseGuard.path(plan).toString()) + " \"$$\" " + s.index() + " >> "
                + Shell.quote(leaseOutput(s).toString()) + " 2>&1 < /dev/null &");
        lines.add("");
        return String.join("\n", lines);
    }
}
