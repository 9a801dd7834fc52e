package io.smartsim.launch.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.InvalidSpecException;
import io.smartsim.launch.LaunchException;
import io.smartsim.launch.OrchestratorSpec;
import io.smartsim.launch.manifest.Json;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.plan.ShardPlan;
import io.smartsim.launch.spi.Launchers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code db plan}: what {@code db start} would run, computed and printed; nothing is started or written. */
@Command(name = "plan",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        defaultValueProvider = SpecOptions.Defaults.class,
        description = {"Print the launch plan of an orchestrator without starting anything: per shard its node, "
                + "address, ports, hash slots and directory, then shard 0's server config and command line.",
                "Ends with a preflight check (binary found, ports free); its failure is reported, not fatal."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:The plan was printed.", Errors.EXIT_DOC_FAILED, Errors.EXIT_DOC_USAGE})
public final class DbPlanCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ExpDirOption expDir;

    @Mixin
    ExperimentOptions experiment;

    @Option(names = "--name", paramLabel = "ID", defaultValue = OrchestratorSpec.DEFAULT_ID, order = 1,
            description = "Orchestrator id (default: ${DEFAULT-VALUE}).")
    String name;

    @Mixin
    SpecOptions specOptions;

    @Mixin
    SchedulerOptions schedulerOptions;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() throws JsonProcessingException {
        OrchestratorSpec orchestratorSpec = specOptions.toSpec(name, schedulerOptions.toLauncherOptions());
        LaunchPlan plan;
        try (Experiment exp = Experiment.create(experiment.name(expDir.dir()), expDir.dir())) {
            plan = exp.createOrchestrator(orchestratorSpec).plan();
        }
        Optional<String> preflight = preflight(plan);
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
            out.println(Json.mapper().writeValueAsString(plan));
            preflight.ifPresent(p -> spec.commandLine().getErr().println("warning: preflight: " + p));
        } else {
            out.print(render(plan, preflight));
        }
        out.flush();
        spec.commandLine().getErr().flush();
        return Errors.OK;
    }

    /** What the launcher's preflight would refuse now (binary missing, port in use), if anything. */
    private static Optional<String> preflight(LaunchPlan plan) {
        try {
            Launchers.find(plan.spec().launcher()).preflight(plan);
            return Optional.empty();
        } catch (InvalidSpecException e) {
            return Optional.of(Errors.describe(e));
        } catch (LaunchException e) {
            return Optional.of(e.getMessage());
        }
    }

    static String render(LaunchPlan plan, Optional<String> preflight) {
        OrchestratorSpec s = plan.spec();
        StringBuilder sb = new StringBuilder();
        sb.append("plan for orchestrator '").append(plan.id()).append("' of experiment '").append(plan.experiment())
                .append("'\n");
        sb.append("  ").append(s.nodes()).append(" node(s) x ").append(s.instancesPerNode()).append(" per node = ")
                .append(s.shardCount()).append(" shard(s), ")
                .append(plan.clustered() ? "Redis Cluster over 16384 hash slots" : "standalone")
                .append("; launcher ").append(s.launcher()).append(", backend ").append(s.backend().id())
                .append(", timeout ").append(s.startupTimeout().toSeconds()).append(" s\n");
        sb.append("  directory: ").append(plan.dir()).append("\n\n");
        List<List<String>> rows = new ArrayList<>();
        for (ShardPlan p : plan.shards()) {
            rows.add(List.of(Integer.toString(p.index()), p.name(), Integer.toString(p.node()), p.host(),
                    p.bindAddresses().isEmpty() ? "(at launch)" : String.join(",", p.bindAddresses()),
                    Integer.toString(p.port()), plan.clustered() ? Integer.toString(p.busPort()) : "-",
                    Text.slots(p.slots()), p.workDir().toString()));
        }
        sb.append(Text.table("", List.of("SHARD", "NAME", "NODE", "HOST", "BIND", "PORT", "BUS PORT", "SLOTS",
                "WORK DIR"), rows));
        ShardPlan first = plan.shards().get(0);
        sb.append("\nconfig of shard 0 (").append(first.configPath()).append("):\n");
        sb.append(Text.indent("  ", first.config()));
        sb.append("\ncommand of shard 0:\n  ").append(Text.argv(first.argv())).append('\n');
        sb.append("\npreflight: ").append(preflight.orElse("ok (server binary found, ports free)")).append('\n');
        return sb.toString();
    }
}
