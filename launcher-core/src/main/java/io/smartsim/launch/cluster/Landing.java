package io.smartsim.launch.cluster;

import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.planned.LaunchPlan;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The wait for one shard started through a wrapper that reports where it landed (Slurm and PBS restarts): its report,
 * then its {@code PING}, within the context's deadline, while the local process that carries it (srun, ssh) lives.
 * What to read, how to land and how the failure reads are the launcher's; a wrapper's own failure report
 * ({@link WrapperFailed}) ends the wait at once.
 */
public final class Landing {
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
        long s = plan.spec().startupTimeout().toSeconds();
        ReadinessWait.Shard one = new ReadinessWait.Shard() {
            @Override
            public Optional<LaunchedShard> landed() {
                return shard.land();
            }

            @Override
            public Optional<String> ended() {
                return shard.carrierExit().map(exit -> carrier + " " + exit);
            }
        };
        return ReadinessWait.of(plan, ctx, List.of(one)).quiet()
                .failure((i, how) -> failure.apply(how))
                .timeout(late -> failure.apply(late.get(0).map(l -> "it did not answer PING on " + l.address()
                        + " within " + s + " s").orElse(reporter + " reported nothing within " + s + " s")))
                .await().get(0);
    }
}
