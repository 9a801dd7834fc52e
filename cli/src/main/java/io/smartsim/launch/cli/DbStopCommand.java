package io.smartsim.launch.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.spi.Launchers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/** {@code db stop}: SHUTDOWN NOSAVE to every shard, then the launcher makes sure the processes are gone. */
@Command(name = "stop",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        description = {"Stop a running orchestrator: SHUTDOWN NOSAVE to every shard, then the launcher terminates "
                + "whatever has not exited after a grace period. Its data is not saved.",
                "Checks afterwards that none of its processes is left."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:Stopped; none of its processes is left.",
                "1:It was not running (or is unknown, or the manifest is missing or corrupt), or a process survived.",
                Errors.EXIT_DOC_USAGE})
public final class DbStopCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ExpDirOption expDir;

    @Option(names = "--name", paramLabel = "ID", defaultValue = OrchestratorSpec.DEFAULT_ID, order = 1,
            description = "Orchestrator id (default: ${DEFAULT-VALUE}).")
    String name;

    @Mixin
    OutputOptions output;

    /** What {@code --json} prints. */
    record Stopped(String id, String experiment, boolean stopped, List<Shard> shards, double seconds) {
    }

    record Shard(int index, String name, String address, Long pid) {
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
        Stopped stopped;
        try (Experiment exp = Experiment.reconnect(expDir.dir(), progress)) {
            Orchestrator db = exp.orchestrator(name);
            List<LaunchedShard> shards = db.shards();
            exp.stop(db);
            Map<Integer, Liveness> after = Launchers.find(db.spec().launcher()).probe(shards);
            List<String> left = shards.stream().filter(s -> after.get(s.index()) == Liveness.ALIVE)
                    .map(s -> "shard " + s.index() + " (" + s.address() + ", pid " + s.pid().map(String::valueOf)
                            .orElse("?") + ")").toList();
            if (!left.isEmpty()) {
                throw new LaunchException("orchestrator '" + name + "' was told to stop, but " + left.size() + " of "
                        + shards.size() + " processes are still alive: " + String.join(", ", left)
                        + "; check them with 'ps' and kill them by pid");
            }
            List<Shard> out = new ArrayList<>();
            for (LaunchedShard s : shards) {
                out.add(new Shard(s.index(), s.name(), s.address(), s.pid().orElse(null)));
            }
            stopped = new Stopped(db.id(), exp.name(), true, out, (System.nanoTime() - t0) / 1e9);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
            out.println(Json.mapper().writeValueAsString(stopped));
        } else {
            out.printf(Locale.ROOT, "stopped '%s' of experiment '%s' in %.2f s: %d shard(s), no process left%n",
                    stopped.id(), stopped.experiment(), stopped.seconds(), stopped.shards().size());
            out.print(Text.table("  ", List.of("SHARD", "ADDRESS", "PID"), stopped.shards().stream()
                    .map(s -> List.of(Integer.toString(s.index()), s.address(),
                            s.pid() == null ? "-" : s.pid().toString()))
                    .collect(Collectors.toList())));
        }
        out.flush();
        return Errors.OK;
    }
}
