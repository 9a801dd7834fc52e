package io.smartsim.launch.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.spi.Launchers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
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
    /** Scripts shown in full; past this many, the first {@link #SCRIPTS_SHOWN_OF_MANY} and the others' names. */
    private static final int SCRIPTS_SHOWN = 5; // a 3-node batch job: its script, 3 wrappers, their port check
    private static final int SCRIPTS_SHOWN_OF_MANY = 2;

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
            // A plan shows where the password goes, never the password: db start generates its own.
            plan = exp.createOrchestrator(orchestratorSpec).plan().redacted();
        }
        Optional<String> preflight = preflight(plan);
        Map<String, String> scripts = Launchers.find(plan.spec().launcher()).renderedScripts(plan);
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
            // The plan's own fields, plus the launcher's scripts (name -> text; {} for launchers that write none).
            ObjectNode json = Json.mapper().valueToTree(plan);
            json.set("renderedScripts", Json.mapper().valueToTree(scripts));
            json.set("warnings", Json.mapper().valueToTree(plan.warnings()));
            out.println(Json.mapper().writeValueAsString(json));
            preflight.ifPresent(p -> spec.commandLine().getErr().println("warning: preflight: " + p));
        } else {
            out.print(render(plan, scripts, preflight));
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

    static String render(LaunchPlan plan, Map<String, String> scripts, Optional<String> preflight) {
        OrchestratorSpec s = plan.spec();
        StringBuilder sb = new StringBuilder();
        sb.append("plan for orchestrator '").append(plan.id()).append("' of experiment '").append(plan.experiment())
                .append("'\n");
        sb.append("  ").append(s.nodes()).append(" node(s) x ").append(s.instancesPerNode()).append(" per node = ")
                .append(s.shardCount()).append(" shard(s), ")
                .append(s.replicas() == 0 ? "" : "each with " + s.replicas() + " replica(s) = " + s.processCount()
                        + " processes, ")
                .append(plan.clustered() ? "Redis Cluster over 16384 hash slots" : "standalone")
                .append("; launcher ").append(s.launcher()).append(", backend ").append(s.backend().id())
                .append(", timeout ").append(s.startupTimeout().toSeconds()).append(" s\n");
        sb.append("  directory: ").append(plan.dir()).append('\n');
        sb.append("  access: ").append(access(plan)).append('\n');
        if (s.autoPort()) {
            sb.append("  ports: --port auto chose base ").append(s.port()).append(", the lowest from the one asked "
                    + "for up that is free now on every node; db start looks again when it starts\n");
        }
        s.ai().ifPresent(ai -> {
            sb.append("  model serving (--ai): ").append(String.join(", ", ai.backends())).append(" on ")
                    .append(ai.device()).append("; each shard's redis-server loads the smartsim-ai module (the AI "
                            + "commands on its own PORT), and each host runs one model server, started before its "
                            + "shards, that they reach over a Unix socket:\n");
            for (ModelServerPlan m : plan.modelServers()) {
                sb.append("    model server ").append(m.index()).append(" on ").append(m.host()).append(" for shard(s) ")
                        .append(m.shards().stream().map(String::valueOf).collect(Collectors.joining(",")))
                        .append(": socket ").append(m.socket()).append(m.socketDirPrivate() ? " (a private "
                                + "directory: the experiment's path is too long for a socket)" : "")
                        .append(", console ").append(m.console()).append('\n');
                sb.append("      ").append(String.join(" ", m.argv())).append('\n');
            }
            if (plan.auth().isPresent()) {
                sb.append("  ").append(ModelServerPlan.smartRedisAuthNote(plan)).append('\n');
            }
        });
        sb.append('\n');
        // ROLE only with --replicas: without, every shard is a master and the table stays as it was.
        boolean roles = s.replicas() > 0;
        List<List<String>> rows = new ArrayList<>();
        for (ShardPlan p : plan.shards()) {
            List<String> row = new ArrayList<>(List.of(Integer.toString(p.index()), p.name()));
            if (roles) {
                row.add(p.roleText());
            }
            row.addAll(List.of(Integer.toString(p.node()), p.host(),
                    p.bindAddresses().isEmpty() ? "(at launch)" : String.join(",", p.bindAddresses()),
                    Integer.toString(p.port()), plan.clustered() ? Integer.toString(p.busPort()) : "-",
                    p.replica() ? "(replica)" : Text.slots(p.slots()), p.workDir().toString()));
            rows.add(row);
        }
        List<String> headers = new ArrayList<>(List.of("SHARD", "NAME"));
        if (roles) {
            headers.add("ROLE");
        }
        headers.addAll(List.of("NODE", "HOST", "BIND", "PORT", "BUS PORT", "SLOTS", "WORK DIR"));
        sb.append(Text.table("", headers, rows));
        plan.warnings().forEach(w -> sb.append("warning: ").append(w).append('\n'));
        ShardPlan first = plan.shards().get(0);
        sb.append("\nconfig of shard 0 (").append(first.configPath()).append("):\n");
        sb.append(Text.indent("  ", first.config()));
        sb.append("\ncommand of shard 0:\n  ").append(Text.argv(first.argv())).append('\n');
        renderScripts(sb, plan, scripts);
        sb.append("\npreflight: ").append(preflight.orElse("ok (server binary found, ports free)")).append('\n');
        return sb.toString();
    }

    /** Who can log in, in one line: the ACL user, or what {@code --no-auth} gives up. */
    static String access(LaunchPlan plan) {
        return plan.auth().map(a -> "user '" + a.user() + "' with a generated password (in the manifest, given to "
                + "models as SSDB_USER/SSDB_PASSWORD); clients without it are refused")
                .orElse("no password (--no-auth): anyone who can reach the ports can read, change or delete the data")
                + plan.tls().map(t -> "; TLS only (--tls), certificates made at start in " + t.dir()
                + ", models trust the CA through SSDB_TLS_CA").orElse("");
    }

    /** The launcher's rendered scripts, each under a heading with the path start writes it to. */
    private static void renderScripts(StringBuilder sb, LaunchPlan plan, Map<String, String> scripts) {
        List<String> names = List.copyOf(scripts.keySet());
        int shown = names.size() <= SCRIPTS_SHOWN ? names.size() : SCRIPTS_SHOWN_OF_MANY;
        for (String name : names.subList(0, shown)) {
            sb.append("\nscript ").append(name).append(" (").append(plan.dir().resolve(name)).append("):\n");
            sb.append(Text.indent("  ", scripts.get(name)));
        }
        if (shown < names.size()) {
            sb.append("\nand ").append(names.size() - shown).append(" more script(s), ")
                    .append(names.get(shown)).append(" to ").append(names.get(names.size() - 1))
                    .append(" (--json prints every one)\n");
        }
    }
}
