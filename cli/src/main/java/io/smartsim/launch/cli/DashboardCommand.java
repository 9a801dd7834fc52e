package io.smartsim.launch.cli;

import io.smartsim.launch.dashboard.Dashboard;
import io.smartsim.launch.dashboard.HttpAccess;
import io.smartsim.launch.spec.Durations;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code dashboard}: the experiment in a browser, live; and {@code /metrics} for Prometheus. */
@Command(name = "dashboard",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        description = {"Serve a page that shows the experiment live: its orchestrators with the shard table and health "
                + "as 'db status' computes it, charts of memory, ops/s, clients and keys per shard, models and "
                + "ensembles with status and exit code, colocated databases by model and node with their health, "
                + "the events log and the tail of any shard's, model's or colocated database's log; "
                + "and /metrics in the Prometheus text format. It reads only the experiment directory and the "
                + "servers, so it can be opened while or after the experiment runs. Stop it with Ctrl-C.",
                "Bound to 127.0.0.1 by default. Bound to any other address it generates a token, printed once here: "
                        + "open the page with ?token=TOKEN, and give Prometheus the same as a bearer token. See "
                        + "docs/telemetry.md."})
public final class DashboardCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ExpDirOption expDir;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8265", order = 1,
            description = "Port of the page and /metrics (default: ${DEFAULT-VALUE}; 0: any free port).")
    int port;

    @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = "127.0.0.1", order = 2,
            description = "Address to listen on (default: ${DEFAULT-VALUE}); any non-loopback address requires the "
                    + "token printed at start.")
    String bind;

    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "2s", order = 3,
            description = "How often the page's charts get a sample of each shard (default: ${DEFAULT-VALUE}).")
    String interval;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        Duration every = Durations.parse("interval", interval);
        HttpAccess access;
        Dashboard dashboard;
        try {
            access = HttpAccess.forBind(bind);
            dashboard = Dashboard.start(expDir.dir(), access, port, every);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        CountDownLatch done = new CountDownLatch(1);
        try (Dashboard d = dashboard) {
            out.println("dashboard of " + expDir.dir() + " at " + d.url());
            access.token().ifPresent(t -> out.println("token (shown only now; Prometheus: authorization.credentials): "
                    + t));
            out.println("metrics at " + d.server().uri().resolve("/metrics") + "; Ctrl-C to stop");
            out.flush();
            Runtime.getRuntime().addShutdownHook(new Thread(done::countDown, "dashboard-stop"));
            done.await();
        }
        return Errors.OK;
    }
}
