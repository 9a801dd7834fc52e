package io.smartsim.launch.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.smartsim.launch.Entity;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.Model;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.EnsembleSpec;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.status.EntitySummary;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.spec.ExperimentFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * {@code run}: an experiment from a spec file. Orchestrators first, each healthy before the next; then models and
 * ensembles with the database variables; waits for the models, prints the summary, and stops the orchestrators
 * unless {@code --keep-db}. Ctrl-C or SIGTERM stops everything it started (the orchestrators too, unless kept).
 */
@Command(name = "run",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        description = {"Run an experiment described in a YAML or JSON file: start its orchestrators and wait until "
                + "they are healthy, then start its models and ensembles with SSDB and SR_DB_TYPE set, wait for "
                + "them, print a summary and stop the orchestrators (unless --keep-db).",
                "Ctrl-C or SIGTERM stops every model and orchestrator this run started.",
                "A mistake in the file is reported as FILE:LINE:COLUMN: field: what it accepts; nothing is started."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:Every model COMPLETED (or, with --dry-run, the plan was printed).",
                "1:A model did not complete, or something failed to start (what this run started was stopped).",
                "2:A mistake in the spec file or the options; nothing was started.",
                "130:Interrupted (Ctrl-C); 143: terminated (SIGTERM). What this run started was stopped."})
public final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The experiment spec: .yaml, .yml or .json.")
    Path file;

    @Mixin
    ExpDirOption expDir;

    @Option(names = "--dry-run", order = 1, description = "Print the whole plan (every shard's config and command, "
            + "every model's command, environment and files) and start nothing.")
    boolean dryRun;

    @Option(names = "--keep-db", order = 2, description = "Leave the orchestrators running after the models "
            + "finish (and on Ctrl-C); stop them later with 'db stop'.")
    boolean keepDb;

    @Mixin
    OutputOptions output;

    /** What {@code --json} prints. */
    record Report(String experiment, Path expDir, boolean completed, List<EntitySummary> entities) {
    }

    @Override
    public Integer call() throws JsonProcessingException {
        ExperimentFile f = ExperimentFile.read(file);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long t0 = System.nanoTime();
        Consumer<String> progress = line -> {
            synchronized (err) {
                err.printf(Locale.ROOT, "[%6.2fs] %s%n", (System.nanoTime() - t0) / 1e9, line);
                err.flush();
            }
        };
        try (Experiment exp = Experiment.create(f.name(), expDir.dir(), progress)) {
            List<Orchestrator> dbs = new ArrayList<>();
            List<Entity> apps = new ArrayList<>();
            for (int i = 0; i < f.orchestrators().size(); i++) {
                OrchestratorSpec s = f.orchestrators().get(i);
                dbs.add(located(f, "orchestrators", i, () -> exp.createOrchestrator(s)));
            }
            for (int i = 0; i < f.models().size(); i++) {
                ModelSpec s = f.models().get(i);
                apps.add(located(f, "models", i, () -> exp.createModel(s)));
            }
            for (int i = 0; i < f.ensembles().size(); i++) {
                EnsembleSpec s = f.ensembles().get(i);
                apps.add(located(f, "ensembles", i, () -> exp.createEnsemble(s)));
            }
            if (dryRun) {
                out.print(RunPlanText.render(exp, f.file()));
                out.flush();
                return Errors.OK;
            }
            for (Orchestrator db : dbs) {
                if (keepDb) {
                    // Neither close nor Ctrl-C stops it, and a process of its own supervises it (--restart, --lease),
                    // as after db start.
                    exp.startDetached(db, Watchdogs::command).ifPresent(pid -> progress.accept("watchdog of '"
                            + db.id() + "' running as pid " + pid + Watchdogs.what(db.plan())));
                } else {
                    exp.start(db);
                }
            }
            exp.start(true, apps.toArray(Entity[]::new));
            List<EntitySummary> summary = exp.summary();
            boolean completed = exp.models().stream().allMatch(m -> m.status() == EntityStatus.COMPLETED);
            if (output.json) {
                out.println(Json.mapper().writeValueAsString(new Report(exp.name(), exp.dir(), completed, summary)));
            } else {
                out.print(EntitySummary.table(summary));
                for (Model m : exp.models()) {
                    if (m.status() != EntityStatus.COMPLETED) {
                        out.println(m.name() + " " + m.status() + m.detail().map(d -> " (" + d + ")").orElse("")
                                + "; its stderr: " + m.stderr());
                    }
                }
                if (keepDb && !dbs.isEmpty()) {
                    out.println("orchestrators left running; stop them with: smartsim-launch db stop --exp-dir "
                            + Text.shellQuote(exp.dir().toString()) + " --name ID");
                }
            }
            out.flush();
            return completed ? Errors.OK : Errors.FAILED;
        }
    }

    private static <T> T located(ExperimentFile f, String section, int index, java.util.function.Supplier<T> make) {
        try {
            return make.get();
        } catch (InvalidSpecException e) {
            throw f.locate(section, index, e);
        }
    }
}
