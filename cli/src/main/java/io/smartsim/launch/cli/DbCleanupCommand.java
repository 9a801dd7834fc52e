package io.smartsim.launch.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.status.OrchestratorCleanup;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.spi.LaunchedShard;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * {@code db cleanup}: removes what a launch killed mid-start (or an orchestrator whose processes partly died) left
 * behind, from what the manifest recorded.
 */
@Command(name = "cleanup",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        description = {"Remove what is left of orchestrators whose start was interrupted (recorded STARTING: the "
                + "launching process was killed) or whose processes have partly or wholly gone (STALE, DEGRADED): "
                + "SHUTDOWN NOSAVE to each shard still there, then the launcher stops it; the entry is then recorded "
                + "FAILED or STOPPED.",
                "Orchestrators running whole are left alone (use 'db stop'). Do not run it while a 'db start' of the "
                        + "same experiment is still under way: its orchestrator is STARTING too."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:Nothing is left: every orchestrator found was cleaned up, or there was none.",
                "1:A process survived (a later cleanup tries again), the orchestrator is unknown, or the manifest "
                        + "is missing or corrupt.",
                Errors.EXIT_DOC_USAGE})
public final class DbCleanupCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ExpDirOption expDir;

    @Option(names = "--name", paramLabel = "ID", order = 1,
            description = "Only this orchestrator (default: every one in the experiment).")
    String name;

    @Mixin
    OutputOptions output;

    /** What {@code --json} prints. */
    record Report(String experiment, boolean clean, List<Cleaned> orchestrators, List<String> colocated) {
    }

    record Cleaned(String id, String found, String recorded, String now, List<Shard> shards) {
    }

    record Shard(int index, String address, Long pid, String outcome) {
    }

    @Override
    public Integer call() throws JsonProcessingException {
        PrintWriter err = spec.commandLine().getErr();
        long t0 = System.nanoTime();
        Consumer<String> progress = line -> {
            synchronized (err) {
                err.printf(Locale.ROOT, "[%6.2fs] %s%n", (System.nanoTime() - t0) / 1e9, line);
                err.flush();
            }
        };
        Report report;
        try (Experiment exp = Experiment.reconnect(expDir.dir(), progress)) {
            List<OrchestratorCleanup> done = exp.cleanup(Optional.ofNullable(name));
            // colocated databases whose keeper was killed with its job (docs/colocated.md); not with --name
            List<String> colocated = name == null ? exp.cleanupColocated() : List.of();
            report = new Report(exp.name(), done.stream().allMatch(OrchestratorCleanup::clean),
                    done.stream().map(DbCleanupCommand::cleaned).toList(), colocated);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
            out.println(Json.mapper().writeValueAsString(report));
        } else if (report.orchestrators().isEmpty() && report.colocated().isEmpty()) {
            out.printf(Locale.ROOT, "nothing to clean up in experiment '%s'%s%n", report.experiment(),
                    name == null ? "" : " for '" + name + "'");
        } else {
            for (Cleaned c : report.orchestrators()) {
                long stopped = c.shards().stream().filter(s -> s.outcome().equals("stopped")).count();
                long left = c.shards().stream().filter(s -> s.outcome().equals("left")).count();
                out.printf(Locale.ROOT, "cleaned up '%s' of experiment '%s' (found %s): %d of %d shard(s) stopped, "
                        + "%d left; recorded %s%n", c.id(), report.experiment(), c.found(), stopped, c.shards().size(),
                        left, c.now());
                out.print(Text.table("  ", List.of("SHARD", "ADDRESS", "PID", "PROCESS"), c.shards().stream()
                        .map(s -> List.of(Integer.toString(s.index()), s.address(),
                                s.pid() == null ? "-" : s.pid().toString(), s.outcome()))
                        .toList()));
            }
            for (String line : report.colocated()) {
                out.println("colocated database of " + line);
            }
        }
        out.flush();
        if (!report.clean()) {
            err.println("error: some processes are still alive after the cleanup (PROCESS 'left'); check them with "
                    + "'ps' and kill them by pid, or run 'db cleanup' again");
            err.flush();
            return Errors.FAILED;
        }
        return Errors.OK;
    }

    private static Cleaned cleaned(OrchestratorCleanup c) {
        return new Cleaned(c.id(), c.found(), c.recorded().name(), c.now().name(), c.shards().stream()
                .map(s -> new Shard(s.index(), s.address(), s.pid().orElse(null), outcome(c, s))).toList());
    }

    /** stopped (it existed and was stopped), left (it still exists), or gone (it had already exited). */
    private static String outcome(OrchestratorCleanup c, LaunchedShard s) {
        return c.left().contains(s) ? "left" : c.stopped().contains(s) ? "stopped" : "gone";
    }
}
