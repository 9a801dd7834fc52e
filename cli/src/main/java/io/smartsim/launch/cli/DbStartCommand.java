package io.smartsim.launch.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.HealthReport;
import io.smartsim.launch.status.ShardHealth;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.spi.LaunchedShard;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code db start}: starts an orchestrator, waits until it is healthy, and leaves it running after this process
 * exits. The last line of stdout is {@code SSDB=host:port,...}.
 */
@Command(name = "start",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        defaultValueProvider = SpecOptions.Defaults.class,
        description = {"Start an orchestrator and wait until it is healthy (every shard answers; with 3 or more shards, "
                + "the cluster is formed and all 16384 slots are served). It keeps running after this command "
                + "exits; stop it with 'db stop'.",
                "Progress goes to stderr. stdout ends with the line SSDB=host:port,... for clients.",
                "On failure everything this start launched is stopped again."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:Started and healthy.", "1:It did not start (already running, a shard failed, timeout, "
                + "cluster forming failed); nothing of this start is left running.", Errors.EXIT_DOC_USAGE})
public final class DbStartCommand implements Callable<Integer> {
    /** The system property {@link #recorded()} reads. */
    static final String CDS_RECORDED = "smartsim.launch.cds.recorded";

    @Spec
    CommandSpec spec;

    @Mixin
    ExpDirOption expDir;

    @Mixin
    ExperimentOptions experiment;

    @Option(names = "--name", paramLabel = "ID", defaultValue = OrchestratorSpec.DEFAULT_ID, order = 1,
            description = "Orchestrator id (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--resume", order = 2,
            description = "Start on the data the previous run of this --name in this --exp-dir kept (--checkpoint), "
                    + "after 'db stop' or a lost allocation, as that run was recorded: backend, server binary, "
                    + "layout, port, checkpoint, auth, TLS, AI, launcher and its options (an allocation, --alloc, "
                    + "never). Options given override the record; another backend, checkpoint kind or layout "
                    + "(--nodes, --per-node) cannot load the data and is refused. Fails, starting nothing, when "
                    + "there is nothing to resume.")
    boolean resume;

    @Mixin
    SpecOptions specOptions;

    @Mixin
    SchedulerOptions schedulerOptions;

    @Mixin
    OutputOptions output;

    /** What {@code --json} prints. */
    record Started(String id, String experiment, String ssdb, String dbType, List<Shard> shards, Path manifest,
                   double seconds, Long watchdogPid) {
    }

    record Shard(int index, String name, String address, Long pid, String role, List<SlotRange> slots, Path log) {
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
        Launched started;
        try (Experiment exp = Experiment.create(experiment.name(expDir.dir()), expDir.dir(), progress)) {
            Orchestrator db = exp.createOrchestrator(resume ? resumeSpec(exp.specToResume(name))
                    : specOptions.toSpec(name, schedulerOptions.toLauncherOptions()));
            // Left running after this process exits, and supervised (--restart on-failure, --lease) by a process of
            // its own from the start: closing the experiment stops nothing.
            Optional<Long> watchdog = resume ? exp.resumeDetached(db, Watchdogs::command)
                    : exp.startDetached(db, Watchdogs::command);
            watchdog.ifPresent(pid -> progress.accept("watchdog of '" + db.id() + "' running as pid " + pid
                    + Watchdogs.what(db.plan()) + "; it ends with 'db stop'"));
            // the start's own health check (it just passed): asking every shard again only delays the exit
            started = summary(exp, db, db.healthAtStart().orElseGet(db::health), System.nanoTime() - t0,
                    watchdog.orElse(null));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
            out.println(Json.mapper().writeValueAsString(started.summary()));
        } else {
            out.print(render(started.summary(), expDir.dir()));
        }
        out.flush();
        recorded();
        return Errors.OK;
    }

    /**
     * {@code bin/smartsim-launch} records the classes of a first {@code db start} as a class-data archive layer,
     * written as this JVM exits, and keeps it only for a start that started something (not for {@code --help}, a
     * refusal or a failure): it names, in this property, a file to create now.
     */
    private static void recorded() {
        String marker = System.getProperty(CDS_RECORDED);
        if (marker != null) {
            try {
                java.nio.file.Files.newOutputStream(Path.of(marker)).close();
            } catch (java.io.IOException | RuntimeException e) {
                // then the recording is not kept, and the next start records again: nothing else depends on it
            }
        }
    }

    /**
     * {@code --resume}: the recorded run's spec, with the options given on this command line over it; the ones left
     * out are the record's, not the defaults.
     */
    OrchestratorSpec resumeSpec(OrchestratorSpec recorded) {
        picocli.CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        return specOptions.over(recorded, name, schedulerOptions.toLauncherOptions(), schedulerOptions.batchKeys(),
                parsed::hasMatchedOption);
    }

    /** What this command started: the summary it prints, and the plan (not printed: it holds the password). */
    private record Launched(io.smartsim.launch.planned.LaunchPlan plan, Started summary) {
    }

    private static Launched summary(Experiment exp, Orchestrator db, HealthReport health, long nanos, Long watchdog) {
        Map<Integer, ShardHealth> byIndex = health.shards().stream()
                .collect(Collectors.toMap(ShardHealth::index, Function.identity()));
        List<Shard> shards = new ArrayList<>();
        for (LaunchedShard s : db.shards()) {
            ShardHealth h = byIndex.get(s.index());
            shards.add(new Shard(s.index(), s.name(), s.address(), s.pid().orElse(null),
                    // "master" or "replica of K": a started orchestrator is formed as planned (checked healthy)
                    h == null ? "?" : db.plan().shards().get(s.index()).roleText(), h == null ? List.of() : h.slots(),
                    db.plan().shards().get(s.index()).logPath()));
        }
        return new Launched(db.plan(), new Started(db.id(), exp.name(), db.ssdb(), db.dbType(), shards,
                exp.manifestFile(), nanos / 1e9, watchdog));
    }

    static String render(Started s, Path expDir) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "started '%s' of experiment '%s': %s, %d shard(s), healthy in %.2f s%n",
                s.id(), s.experiment(), s.dbType(), s.shards().size(), s.seconds()));
        List<List<String>> rows = new ArrayList<>();
        for (Shard x : s.shards()) {
            rows.add(List.of(Integer.toString(x.index()), x.address(), x.pid() == null ? "-" : x.pid().toString(),
                    x.role(), Text.slots(x.slots()), x.log().toString()));
        }
        sb.append(Text.table("  ", List.of("SHARD", "ADDRESS", "PID", "ROLE", "SLOTS", "LOG"), rows));
        sb.append("manifest: ").append(s.manifest()).append('\n');
        if (s.watchdogPid() != null) {
            sb.append("watchdog: pid ").append(s.watchdogPid()).append(" (events: smartsim-launch db status)\n");
        }
        sb.append("stop it with: smartsim-launch db stop --exp-dir ").append(Text.shellQuote(expDir.toString()))
                .append(" --name ").append(s.id()).append('\n');
        sb.append("SSDB=").append(s.ssdb()).append('\n');
        return sb.toString();
    }
}
