package io.smartsim.launch.cli;

import io.smartsim.launch.Ensemble;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Model;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.EnsembleSpec;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.spec.RunSettings;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.spi.Launchers;
import io.smartsim.launch.spi.RenderedLaunch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** {@code run --dry-run}: the whole plan of an experiment as text. Pure: reads plans, writes nothing. */
final class RunPlanText {
    private RunPlanText() {
    }

    static String render(Experiment exp, Path specFile) {
        StringBuilder sb = new StringBuilder();
        sb.append("plan of experiment '").append(exp.name()).append("' from ").append(specFile.toAbsolutePath()
                .normalize()).append(" (dry run: nothing is started or written)\n");
        sb.append("experiment directory: ").append(exp.dir()).append("\n");
        sb.append("order: orchestrators one by one, each healthy before the next; then models and ensemble members\n");
        for (Orchestrator o : exp.orchestrators()) {
            sb.append('\n');
            orchestrator(sb, o.plan());
        }
        for (Model m : exp.models()) {
            if (m.plan().ensemble().isEmpty()) {
                sb.append("\nmodel '").append(m.name()).append("'\n");
                model(sb, exp, m, "  ");
            }
        }
        for (Ensemble e : exp.ensembles()) {
            EnsembleSpec s = e.spec();
            sb.append("\nensemble '").append(e.name()).append("': ").append(e.members().size())
                    .append(" member(s), strategy ").append(s.strategy().id());
            s.samples().ifPresent(n -> sb.append(", samples ").append(n));
            s.seed().ifPresent(n -> sb.append(", seed ").append(n));
            sb.append(", params ").append(s.params().entrySet().stream()
                    .map(x -> x.getKey() + "=" + x.getValue()).collect(Collectors.joining(" "))).append('\n');
            for (Model m : e.members()) {
                sb.append("  member '").append(m.name()).append("' (").append(m.plan().params().entrySet().stream()
                        .map(x -> x.getKey() + "=" + x.getValue()).collect(Collectors.joining(", "))).append(")\n");
                model(sb, exp, m, "    ");
            }
        }
        return sb.toString();
    }

    private static void orchestrator(StringBuilder sb, LaunchPlan unredacted) {
        LaunchPlan plan = unredacted.redacted(); // a dry run never shows the password
        OrchestratorSpec s = plan.spec();
        sb.append("orchestrator '").append(plan.id()).append("': ").append(s.nodes()).append(" node(s) x ")
                .append(s.instancesPerNode()).append(" per node = ").append(s.shardCount()).append(" shard(s), ")
                .append(s.replicas() == 0 ? "" : "each with " + s.replicas() + " replica(s) = " + s.processCount()
                        + " processes, ")
                .append(plan.clustered() ? "Redis Cluster over 16384 hash slots" : "standalone")
                .append("; launcher ").append(s.launcher()).append(", backend ").append(s.backend().id())
                .append(", timeout ").append(s.startupTimeout().toSeconds()).append(" s\n");
        sb.append("  directory: ").append(plan.dir()).append('\n');
        sb.append("  access: ").append(DbPlanCommand.access(plan)).append('\n');
        if (!s.launcherOptions().isEmpty()) {
            sb.append("  launcher options: ").append(new java.util.TreeMap<>(s.launcherOptions())).append('\n');
        }
        List<List<String>> rows = new ArrayList<>();
        for (ShardPlan p : plan.shards()) {
            rows.add(List.of(Integer.toString(p.index()), p.name(), Integer.toString(p.node()), p.host(),
                    p.bindAddresses().isEmpty() ? "(at launch)" : String.join(",", p.bindAddresses()),
                    Integer.toString(p.port()), plan.clustered() ? Integer.toString(p.busPort()) : "-",
                    p.replica() ? "(" + p.roleText() + ")" : Text.slots(p.slots())));
        }
        sb.append(Text.table("  ", List.of("SHARD", "NAME", "NODE", "HOST", "BIND", "PORT", "BUS PORT", "SLOTS"),
                rows));
        plan.warnings().forEach(w -> sb.append("  warning: ").append(w).append('\n'));
        // --ai through the Redis module: each host's model server, started before the shards.
        plan.modelServers().forEach(m -> sb.append("  model server ").append(m.index()).append(" (--ai, socket ")
                .append(m.socket()).append(", for shard(s) ").append(m.shards().stream().map(String::valueOf)
                        .collect(java.util.stream.Collectors.joining(","))).append(") command (in ")
                .append(m.workDir()).append("):\n    ").append(Text.argv(m.argv())).append('\n'));
        for (ShardPlan p : plan.shards()) {
            sb.append("  shard ").append(p.index()).append(" command (in ").append(p.workDir()).append("):\n    ")
                    .append(Text.argv(p.argv())).append('\n');
            sb.append("  shard ").append(p.index()).append(" config (").append(p.configPath()).append("):\n");
            sb.append(Text.indent("    ", p.config()));
        }
        // The launcher's own scripts (Slurm: each shard's wrapper, and the batch script in batch mode), as it
        // would write them under the orchestrator's directory.
        for (Map.Entry<String, String> script : Launchers.find(s.launcher()).renderedScripts(plan).entrySet()) {
            sb.append("  script ").append(plan.dir().resolve(script.getKey())).append(":\n")
                    .append(Text.indent("    ", script.getValue()));
        }
    }

    private static void model(StringBuilder sb, Experiment exp, Model m, String in) {
        ModelPlan p = m.plan();
        RenderedLaunch r = exp.preview(m);
        sb.append(in).append("launcher: ").append(p.launcher()).append("; run: ").append(run(p.run())).append('\n');
        sb.append(in).append("directory: ").append(p.dir()).append('\n');
        if (!p.workDir().equals(p.dir())) {
            sb.append(in).append("working directory: ").append(p.workDir()).append('\n');
        }
        sb.append(in).append("stdout: ").append(p.stdout()).append('\n');
        sb.append(in).append("stderr: ").append(p.stderr()).append('\n');
        p.colocated().ifPresent(c -> sb.append(in).append("colocated database: one per node, standalone ")
                .append(c.db().backend().id()).append(" on ").append(c.db().ssdb()).append(", ")
                .append(c.db().cpuList().isEmpty() ? "not pinned" : "pinned to CPUs " + c.db().cpuList())
                .append(stored(c))
                .append("; each rank runs through ").append(c.wrapper()).append(" (below)\n"));
        sb.append(in).append("command:\n").append(in).append("  ").append(Text.argv(r.argv())).append('\n');
        sb.append(in).append("environment:\n");
        for (Map.Entry<String, String> e : r.env().entrySet()) {
            sb.append(in).append("  ").append(e.getKey()).append('=').append(Text.shellQuote(e.getValue()))
                    .append('\n');
        }
        for (ModelPlan.RenderedFile f : p.files()) {
            sb.append(in).append("config file ").append(f.target()).append(" (from ").append(f.source())
                    .append("):\n").append(Text.indent(in + "  ", f.content()));
        }
        for (Map.Entry<String, String> s : r.scripts().entrySet()) {
            sb.append(in).append("script ").append(s.getKey()).append(":\n")
                    .append(Text.indent(in + "  ", s.getValue()));
        }
    }

    private static String run(RunSettings r) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.nodes()).append(" node(s), ").append(r.totalTasks()).append(" task(s)");
        r.tasksPerNode().ifPresent(t -> sb.append(" (").append(t).append(" per node)"));
        sb.append(", ").append(r.cpusPerTask()).append(" CPU(s) per task");
        if (!r.runArgs().isEmpty()) {
            sb.append(", run-command arguments ").append(Text.argv(r.runArgs()));
        }
        r.alloc().ifPresent(a -> sb.append(", step of allocation ").append(a));
        r.batch().ifPresentOrElse(b -> {
            sb.append(", own batch job");
            b.time().ifPresent(t -> sb.append(" time ").append(io.smartsim.launch.spec.BatchSettings.clock(t)));
            b.account().ifPresent(a -> sb.append(" account ").append(a));
            b.partition().ifPresent(a -> sb.append(" partition ").append(a));
            b.qos().ifPresent(a -> sb.append(" qos ").append(a));
            b.options().forEach(o -> sb.append(' ').append(o));
        }, () -> { });
        return sb.toString();
    }

    /**
     * What a colocated database stores before its node's ranks start, and where it runs them: {@code ; stores model
     * mlp (ONNX on CPU, from /m.onnx), script pre (TORCH on CPU, from /pre.py) through a model server beside it
     * (backends ONNX,TORCH)}; nothing without models or scripts.
     */
    private static String stored(io.smartsim.launch.planned.ColocatedPlan c) {
        List<String> what = new java.util.ArrayList<>();
        c.db().models().forEach(m -> what.add("model " + m.name() + " (" + m.backend() + " on " + m.device()
                + ", from " + m.file() + ")"));
        c.db().scripts().forEach(s -> what.add("script " + s.name() + " (TORCH on " + s.device() + ", from "
                + s.file() + ")"));
        return what.isEmpty() ? "" : "; stores " + String.join(", ", what) + " before the node's ranks start, run by "
                + "a model server beside it (backends " + String.join(",", c.db().aiBackends()) + ")";
    }
}
