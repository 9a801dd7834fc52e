package io.smartsim.launch.cluster;

import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.error.ReadinessTimeoutException;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.util.Backoff;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The wait for a launch's shards to answer {@code PING}, once, for every launcher (local, ssh, Slurm, PBS, and one
 * restarted shard through {@link Landing}). Each round, for every shard not up yet: if it has not
 * been landed yet, it is landed once its launcher knows where it is (a fixed address, or a wrapper's report; a
 * wrapper's own failure report ends the wait at once, with its message); then if its process or carrier has ended it
 * has failed (whatever else may answer on its port); otherwise it is PINGed.
 * Between rounds an optional check runs every so often (a scheduler's view of the job, a remote liveness probe) and
 * may throw; then a growing pause within the context's one deadline. What the launcher says is its own: how a shard
 * that is up reads in the progress lines, what a failure and a timeout throw.
 *
 * <pre>{@code
 * List<LaunchedShard> up = ReadinessWait.of(plan, ctx, shards)
 *         .polling(Duration.ofMillis(20), Duration.ofMillis(250))
 *         .every(Duration.ofSeconds(1), this::checkJob)
 *         .upAs(ls -> ls.address() + " (node " + ls.handle().get("node") + ")")
 *         .failure((i, how) -> failure(plan.shards().get(i), how))
 *         .timeout(late -> ReadinessWait.notUp(plan, n, late, "were not up", "the job was deleted", this::lateLine))
 *         .await();
 * }</pre>
 */
public final class ReadinessWait {
    private static final Duration PING_TIMEOUT = Duration.ofMillis(500);

    /** One shard waited for: the launcher's side. */
    public interface Shard {
        /**
         * Where the shard answers, once its launcher knows: a fixed address, or its wrapper's report read and the
         * shard recorded (called again each round until present, then never again). A wrapper's own failure report
         * throws {@link Landing.WrapperFailed}.
         */
        Optional<LaunchedShard> landed();

        /** How its process, or the local process that carries it (srun, ssh, mpiexec), ended, once it has. */
        default Optional<String> ended() {
            return Optional.empty();
        }

        /** A shard already started at {@code where}, whose process is watched by {@code ended}. */
        static Shard at(LaunchedShard where, java.util.function.Supplier<Optional<String>> ended) {
            Objects.requireNonNull(where, "where");
            return new Shard() {
                @Override
                public Optional<LaunchedShard> landed() {
                    return Optional.of(where);
                }

                @Override
                public Optional<String> ended() {
                    return ended.get();
                }
            };
        }
    }

    /** What a shard that can no longer come up throws: {@code index} is its place in the list waited for. */
    @FunctionalInterface
    public interface Failure {
        RuntimeException of(int index, String how) throws InterruptedException;
    }

    /** A check between rounds; it throws to end the wait (the job ended, a remote process died). */
    @FunctionalInterface
    public interface Check {
        void run() throws InterruptedException;
    }

    /** What the wait throws at the deadline, given each late shard's place and where it landed, if it did. */
    @FunctionalInterface
    public interface Timeout {
        RuntimeException of(Map<Integer, Optional<LaunchedShard>> late);
    }

    private final LaunchPlan plan;
    private final LaunchContext ctx;
    private final List<Shard> shards;
    private final LaunchedShard[] landed;
    private final boolean[] up;
    private Duration first = Duration.ofMillis(20);
    private Duration max = Duration.ofMillis(250);
    private Duration every = Duration.ZERO;
    private Check check = () -> { };
    private boolean checkFirst;
    private Optional<Function<LaunchedShard, String>> upAs = Optional.of(LaunchedShard::address);
    private Failure failure;
    private Timeout timeout;

    private ReadinessWait(LaunchPlan plan, LaunchContext ctx, List<? extends Shard> shards) {
        this.plan = Objects.requireNonNull(plan, "plan");
        this.ctx = Objects.requireNonNull(ctx, "ctx");
        this.shards = List.copyOf(shards);
        this.landed = new LaunchedShard[shards.size()];
        this.up = new boolean[shards.size()];
        this.failure = (i, how) -> new ShardStartException("shard " + i + " of '" + plan.id() + "': " + how);
        this.timeout = late -> notUp(plan, this.shards.size(), late, "did not answer PING", "every shard was stopped",
                (i, ls) -> "shard " + i + ls.map(l -> " on " + l.address()).orElse(" (not landed)"));
    }

    /** A wait for {@code shards} of {@code plan}, within {@code ctx}'s deadline; progress lines go to its progress. */
    public static ReadinessWait of(LaunchPlan plan, LaunchContext ctx, List<? extends Shard> shards) {
        return new ReadinessWait(plan, ctx, shards);
    }

    /** Pauses between rounds, growing from {@code first} to {@code max} (default 20 ms to 250 ms). */
    public ReadinessWait polling(Duration first, Duration max) {
        this.first = Objects.requireNonNull(first, "first");
        this.max = Objects.requireNonNull(max, "max");
        return this;
    }

    /** Runs {@code check} after a round once {@code period} has passed since the wait began or the last check. */
    public ReadinessWait every(Duration period, Check check) {
        this.every = Objects.requireNonNull(period, "period");
        this.check = Objects.requireNonNull(check, "check");
        this.checkFirst = false;
        return this;
    }

    /**
     * As {@link #every}, and once before the first round too: the wait then never ends without one check, even when
     * every shard answers at once (ssh: each process is seen alive over the connection before the start succeeds).
     */
    public ReadinessWait everyFromStart(Duration period, Check check) {
        every(period, check);
        this.checkFirst = true;
        return this;
    }

    /**
     * How an up shard reads in the progress line {@code shard INDEX up on WHERE (K/N)}, INDEX its index in the plan;
     * its address by default.
     */
    public ReadinessWait upAs(Function<LaunchedShard, String> where) {
        this.upAs = Optional.of(where);
        return this;
    }

    /** No progress lines (one restarted shard: its launcher says what it did). */
    public ReadinessWait quiet() {
        this.upAs = Optional.empty();
        return this;
    }

    /** What is thrown for a shard whose wrapper failed or whose process ended. */
    public ReadinessWait failure(Failure failure) {
        this.failure = Objects.requireNonNull(failure, "failure");
        return this;
    }

    /** What is thrown at the deadline (see {@link #notUp}). */
    public ReadinessWait timeout(Timeout timeout) {
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        return this;
    }

    /** Whether the shard at {@code index} has answered PING. */
    public boolean up(int index) {
        return up[index];
    }

    /** The shards as landed, in order, once every one answers PING; otherwise throws what the launcher made. */
    public List<LaunchedShard> await() throws InterruptedException {
        int total = shards.size();
        int pending = total;
        Backoff backoff = new Backoff(ctx.deadline(), first, max);
        long nextCheck = System.nanoTime() + every.toNanos();
        if (checkFirst) {
            check.run();
        }
        while (pending > 0) {
            for (int i = 0; i < total; i++) {
                if (up[i]) {
                    continue;
                }
                Shard shard = shards.get(i);
                if (landed[i] == null) {
                    try {
                        landed[i] = shard.landed().orElse(null);
                    } catch (Landing.WrapperFailed e) {
                        throw failure.of(i, e.getMessage());
                    }
                }
                Optional<String> ended = shard.ended();
                if (ended.isPresent()) {
                    throw failure.of(i, ended.get());
                }
                if (landed[i] != null && Ping.pong(landed[i].host(), landed[i].port(),
                        ctx.deadline().capMillis(PING_TIMEOUT), plan.access())) {
                    up[i] = true;
                    pending--;
                    if (upAs.isPresent() && (total <= 16 || pending == 0)) {
                        ctx.progress().accept("shard " + landed[i].index() + " up on "
                                + upAs.get().apply(landed[i]) + " (" + (total - pending) + "/" + total + ")");
                    }
                }
            }
            if (pending == 0) {
                break;
            }
            if (System.nanoTime() - nextCheck >= 0) {
                check.run();
                nextCheck = System.nanoTime() + every.toNanos();
            }
            if (!backoff.pause()) {
                Map<Integer, Optional<LaunchedShard>> late = new LinkedHashMap<>();
                for (int i = 0; i < total; i++) {
                    if (!up[i]) {
                        late.put(i, Optional.ofNullable(landed[i]));
                    }
                }
                throw timeout.of(late);
            }
        }
        return List.of(landed);
    }

    /** One late shard's line in {@link #notUp}: its place and where it landed, if it did. */
    @FunctionalInterface
    public interface LateLine {
        String of(int index, Optional<LaunchedShard> landed);
    }

    /**
     * The usual timeout: {@code "2 of 3 shard(s) of 'db' DIDNOT within 30 s; UNDONE:"} and a line per late shard.
     *
     * @param didNot what the late shards did not do in time ("did not answer PING", "were not up")
     * @param undone what the launcher did about it ("every shard was stopped")
     */
    public static ReadinessTimeoutException notUp(LaunchPlan plan, int total, Map<Integer, Optional<LaunchedShard>> late,
                                                  String didNot, String undone, LateLine line) {
        List<String> lines = new ArrayList<>();
        late.forEach((i, ls) -> lines.add(line.of(i, ls)));
        return new ReadinessTimeoutException(late.size() + " of " + total + " shard(s) of '" + plan.id() + "' "
                + didNot + " within " + plan.spec().startupTimeout().toSeconds() + " s; " + undone + ":\n"
                + String.join("\n", lines));
    }
}
