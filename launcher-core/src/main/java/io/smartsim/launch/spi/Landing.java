package io.smartsim.launch.spi;

import io.smartsim.launch.cluster.Ping;
import io.smartsim.launch.plan.LaunchPlan;
import io.smartsim.launch.util.Backoff;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * The wait for one shard started through a wrapper that reports where it landed (Slurm and PBS restarts): its report,
 * then its {@code PING}, within the context's deadline, while the local process that carries it (srun, ssh) lives.
 * What to read, how to land and how the failure reads are the launcher's; a wrapper's own failure report
 * ({@link WrapperFailed}) ends the wait at once.
 */
public final class Landing {
    private static final Duration PING_TIMEOUT = Duration.ofMillis(500);

    /** One shard being started: the launcher's side of the wait. */
    public interface Shard {
        /** Reads its report and, once there is one, lands the shard (records it, exposes its address). */
        Optional<LaunchedShard> land();

        /** How the local process that carries it ended ("exited with 1"), once it has. */
        Optional<String> carrierExit();
    }

    /**
     * A wrapper that stops before its shard starts (no address on the interface, a port already taken) writes its
     * report as one line {@code error=MESSAGE} instead of where the shard landed, so the launcher says why at once
     * rather than after the startup timeout. Launchers' report readers throw this for such a report.
     */
    public static final class WrapperFailed extends RuntimeException {
        public WrapperFailed(String message) {
            super(message);
        }
    }

    /**
     * The wrapper's side of {@link WrapperFailed} (bash, with {@code report} set to its report's path):
     * {@code fail CODE MESSAGE} prints the message on stderr, writes it as the report, whole, and exits.
     */
    public static final String WRAPPER_FAIL = String.join("\n",
            "# Stopping before the server starts: the message goes to stderr and, as the report, to the launcher, which "
                    + "then",
            "# says why at once instead of waiting out its startup timeout.",
            "fail() {",
            "    echo \"smartsim-launch: $2\" >&2",
            "    printf 'error=%s\\n' \"$2\" > \"$report.tmp\" && mv -f \"$report.tmp\" \"$report\"",
            "    exit \"$1\"",
            "}",
            "");

    /** The wrapper's own failure message, when {@code report} is one ({@link WrapperFailed}). */
    public static Optional<String> reportedError(String report) {
        for (String line : report.split("\n")) {
            if (line.startsWith("error=")) {
                String message = line.substring("error=".length()).strip();
                return Optional.of(message.isEmpty() ? "its wrapper failed (no message)" : message);
            }
        }
        return Optional.empty();
    }

    /** {@code report} as read, unless the wrapper wrote its own failure there: then {@link WrapperFailed} is thrown. */
    public static Optional<String> unlessFailed(Optional<String> report) {
        Optional<String> error = report.flatMap(Landing::reportedError);
        if (error.isPresent()) {
            throw new WrapperFailed(error.get());
        }
        return report;
    }

    private Landing() {
    }

    /**
     * The landed shard once it answers {@code PING}; otherwise throws what {@code failure} makes of the reason:
     * {@code reporter} (for example "its step") reported nothing, the shard did not answer, or its carrier ended.
     */
    public static LaunchedShard await(LaunchPlan plan, LaunchContext ctx, String reporter, String carrier, Shard shard,
                                      Function<String, RuntimeException> failure) throws InterruptedException {
        LaunchedShard landed = null;
        Backoff backoff = new Backoff(ctx.deadline(), Duration.ofMillis(20), Duration.ofMillis(250));
        while (true) {
            if (landed == null) {
                try {
                    landed = shard.land().orElse(null);
                } catch (WrapperFailed e) {
                    throw failure.apply(e.getMessage());
                }
            }
            if (landed != null && Ping.pong(landed.host(), landed.port(), ctx.deadline().capMillis(PING_TIMEOUT),
                    plan.access())) {
                return landed;
            }
            Optional<String> exit = shard.carrierExit();
            if (exit.isPresent()) {
                throw failure.apply(carrier + " " + exit.get());
            }
            if (!backoff.pause()) {
                long s = plan.spec().startupTimeout().toSeconds();
                throw failure.apply(landed == null ? reporter + " reported nothing within " + s + " s"
                        : "it did not answer PING on " + landed.address() + " within " + s + " s");
            }
        }
    }
}
