package io.smartsim.launch.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.smartsim.launch.Experiment;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spec.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;

/** {@code db renew}: pushes an orchestrator's lease ({@code --lease}) out by its duration again. */
@Command(name = "renew",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        description = {"Renew the lease of an orchestrator started with --lease: its shards keep running for another "
                + "lease duration from now. For batch scripts and workflows that run 'db start' and then go on: call "
                + "it more often than the lease (for example every third of it) while the work that needs the "
                + "database runs; once nothing renews it, the shards shut themselves down.",
                "'db start' itself leaves a watchdog that renews the lease while the process that ran 'db start' "
                        + "(your shell or batch script) lives."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:Renewed.",
                "1:The orchestrator is unknown, has no lease, is not running, or its lease has already run out (its "
                        + "shards stopped themselves: start it again).",
                Errors.EXIT_DOC_USAGE})
public final class DbRenewCommand implements Callable<Integer> {
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
    record Renewed(String id, Instant expires, double seconds) {
    }

    @Override
    public Integer call() throws JsonProcessingException {
        Renewed renewed;
        try (Experiment exp = Experiment.reconnect(expDir.dir())) {
            Instant expires = exp.renewLease(name);
            renewed = new Renewed(name, expires, (expires.toEpochMilli() - System.currentTimeMillis()) / 1000.0);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
            out.println(Json.mapper().writeValueAsString(renewed));
        } else {
            out.printf(java.util.Locale.ROOT, "renewed the lease of '%s': its shards run until %s (in %.0f s) unless "
                    + "renewed again%n", renewed.id(), renewed.expires(), renewed.seconds());
        }
        out.flush();
        return Errors.OK;
    }
}
