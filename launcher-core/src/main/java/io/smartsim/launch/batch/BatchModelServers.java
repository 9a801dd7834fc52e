package io.smartsim.launch.batch;

import io.smartsim.launch.cluster.Landing;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.error.ShardStartException;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.exec.Detached;
import io.smartsim.launch.plan.AiPlanner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.script.Shell;
import io.smartsim.launch.script.Template;
import io.smartsim.launch.spi.LaunchContext;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.supervise.LeaseGuard;
import io.smartsim.launch.util.Backoff;
import io.smartsim.launch.util.Deadline;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * {@code --ai} through the Redis module on a batch scheduler (issue 16), the same for every scheduler: one model
 * server per node ({@link ModelServerPlan}), each started by the scheduler's run command as a task of its own (a Slurm
 * step, a PBS task) running a small wrapper that reports where it runs and then execs the JVM, so that ending the
 * task ends the model server. The launcher (in an allocation) or the batch script (a batch job of its own) starts the
 * node's shards only once its model server has printed {@link ModelServerPlan#READY}. Each shard it serves records it
 * in its handle ({@link AiPlanner#HANDLE_SOCKET}, {@link AiPlanner#HANDLE_PID} on its node,
 * {@link AiPlanner#HANDLE_NODE}, and the scheduler's own keys), so that stop ends it after the shards, status probes
 * it and the watchdog starts it again. Rendering is pure; {@link #await} reads files where the scheduler commands run.
 */
public final class BatchModelServers {
    private static final Template WRAPPER = Template.resource(BatchModelServers.class, "model-server.sh");

    private BatchModelServers() {
    }

    /** The wrapper script of model server {@code m}, in its directory. */
    public static Path wrapperPath(ModelServerPlan m) {
        return m.workDir().resolve("model-server-" + m.index() + ".sh");
    }

    /** Where its wrapper reports the node it runs on and its pid there. */
    public static Path reportPath(ModelServerPlan m) {
        return m.workDir().resolve("model-server-" + m.index() + ".where");
    }

    /** Its lease guard's output ({@code --lease}). */
    public static Path leaseOutput(ModelServerPlan m) {
        return m.workDir().resolve("model-server-" + m.index() + ".lease.out");
    }

    /** The name of its task (a Slurm step's name): {@code <id>-ai-<index>}. */
    public static String taskName(LaunchPlan plan, ModelServerPlan m) {
        return plan.id() + "-ai-" + m.index();
    }

    /** The node slot (0-based, as {@link io.smartsim.launch.planned.ShardPlan#node()}) it runs on: its shards'. */
    public static int node(LaunchPlan plan, ModelServerPlan m) {
        return plan.shards().get(m.shards().get(0)).node();
    }

    /**
     * What a scheduler's model server wrapper says and reads, as bash.
     *
     * @param node    how the wrapper learns its node's name ({@code ${SLURMD_NODENAME:-$(hostname)}})
     * @param job     the job id it reports ({@code "${SLURM_JOB_ID:-}"})
     * @param step    the task id it reports ({@code "${SLURM_STEP_ID:-}"}, or {@code ''})
     * @param how     how it is started, for its header ("run as a Slurm step of its own")
     * @param carrier what carries it, for its header ("the step")
     */
    public record Words(String node, String job, String step, String how, String carrier) {
    }

    /**
     * The wrapper of model server {@code m}: creates a private socket directory when its socket needed one, enters its
     * directory, reports {@code node}, {@code hostname}, {@code job}, {@code step} and {@code pid}, runs the
     * scheduler's {@code watch} lines (empty, or lines ending with a newline), starts its lease guard under
     * {@code --lease}, then execs the model server. Its output is its run command's (the console).
     */
    public static String wrapper(LaunchPlan plan, ModelServerPlan m, Words words, String watch) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("index", Integer.toString(m.index()));
        v.put("id", plan.id());
        v.put("how", words.how());
        v.put("shards", m.shards().stream().map(i -> plan.shards().get(i).name()).collect(Collectors.joining(", ")));
        v.put("carrier", words.carrier());
        v.put("report", reportPath(m).toString());
        v.put("fail", Landing.WRAPPER_FAIL);
        v.put("node", words.node());
        v.put("needed", m.needed().stream().map(Shell::quote).collect(Collectors.joining(" ")));
        v.put("socketDir", m.socketDirPrivate() ? socketDir(m.socket().getParent()) : "");
        v.put("workDir", m.workDir().toString());
        v.put("job", words.job());
        v.put("step", words.step());
        v.put("watch", watch);
        v.put("leaseGuard", plan.spec().lease().isEmpty() ? "" : String.join("\n",
                "# --lease: a guard beside the model server stops it once the lease is no longer renewed, as each "
                        + "shard's does.",
                "# It watches this shell's pid, which the model server keeps through exec.",
                "/bin/bash " + Shell.quote(LeaseGuard.path(plan).toString()) + " \"$$\" null >> "
                        + Shell.quote(leaseOutput(m).toString()) + " 2>&1 < /dev/null &", ""));
        v.put("server", Shell.join(m.argv()));
        return WRAPPER.render(v);
    }

    /** The wrapper's lines that create a private socket directory, taking only a real directory of this user. */
    private static String socketDir(Path dir) {
        String d = Shell.quote(dir.toString());
        return String.join("\n",
                "# The experiment directory's path is too long for a Unix socket: the socket goes in a private directory,",
                "# created owner-only, or taken when it is a real directory of this user (never a link put there).",
                "sd=" + d,
                "if [ ! -e \"$sd\" ] && [ ! -L \"$sd\" ]; then mkdir -m 700 -- \"$sd\" || fail 3 \"cannot create $sd on "
                        + "node $node\"; fi",
                "if [ -L \"$sd\" ] || [ ! -d \"$sd\" ] || [ ! -O \"$sd\" ]; then",
                "    fail 4 \"$sd is not a directory of $(id -un) on node $node; remove it, or use a shorter --exp-dir\"",
                "fi",
                "");
    }

    /**
     * A batch job script's lines that start the model servers (none without {@code --ai} through the module): each
     * one's {@code start} line (a backgrounded run command, its output appended to its console), then a wait until
     * each has printed its ready line there. One whose run command ends first, or that is not ready within the
     * startup timeout, ends the script (and so the job) with a message naming it, in the job's output, which the
     * launcher shows. {@code how} says how they run ("each a step of its own"); {@code next} is the line after them.
     */
    public static List<String> batchStarts(LaunchPlan plan, Function<ModelServerPlan, String> start, String how,
                                           String next) {
        if (plan.modelServers().isEmpty()) {
            return List.of();
        }
        long polls = plan.spec().startupTimeout().toMillis() / 100;
        List<String> out = new java.util.ArrayList<>(List.of(
                "# --ai: one model server per node, " + how + ".",
                "# The shards load the smartsim-ai module, which runs models on their node's model server: they start "
                        + "once every",
                "# model server has printed its ready line.",
                "await_model_server() { # index, console, pid of its run command",
                "    for _ in $(seq " + polls + "); do",
                "        if grep -qF " + Shell.quote(ModelServerPlan.READY) + " \"$2\" 2>/dev/null; then return 0; fi",
                "        if ! kill -0 \"$3\" 2>/dev/null; then",
                "            echo \"smartsim-launch: the --ai model server $1 of " + plan.id() + " ended before it was "
                        + "ready; its console: $2\" >&2",
                "            exit 3",
                "        fi",
                "        sleep 0.1",
                "    done",
                "    echo \"smartsim-launch: the --ai model server $1 of " + plan.id() + " was not ready within "
                        + plan.spec().startupTimeout().toSeconds() + " s; its console: $2\" >&2",
                "    exit 3",
                "}"));
        for (ModelServerPlan m : plan.modelServers()) {
            out.add(start.apply(m));
            out.add("ai_run_" + m.index() + "=$!");
        }
        for (ModelServerPlan m : plan.modelServers()) {
            out.add("await_model_server " + m.index() + " " + Shell.quote(m.console().toString()) + " \"$ai_run_"
                    + m.index() + "\"");
        }
        out.add(next);
        return out;
    }

    /** A model server's report: the node it runs on, its pid there, and the scheduler's job and task ids. */
    public record Report(String node, String hostname, String job, String step, long pid) {
        public static Report parse(String text) {
            Map<String, String> kv = Reports.fields(text, List.of("node", "pid"));
            return new Report(kv.get("node"), kv.getOrDefault("hostname", ""), kv.getOrDefault("job", ""),
                    kv.getOrDefault("step", ""), Reports.pid(kv).orElseThrow(() -> new IllegalArgumentException(
                    "model server report has no numeric pid: " + kv)));
        }
    }

    /** Its report once its wrapper wrote it; the wrapper's own failure ({@code error=}) throws. */
    public static Optional<Report> readReport(CommandRunner runner, ModelServerPlan m, Duration timeout) {
        return Landing.unlessFailed(runner.readFile(reportPath(m), timeout)).map(Report::parse);
    }

    /** Whether its console (new at each start: the last one is kept as NAME.1) has the ready line. */
    public static boolean ready(CommandRunner runner, ModelServerPlan m, Duration timeout) {
        return runner.readFile(m.console(), timeout).map(c -> c.contains(ModelServerPlan.READY)).orElse(false);
    }

    /** The handle entries of a shard served by model server {@code m} as reported, plus the scheduler's {@code own}. */
    public static Map<String, String> handle(ModelServerPlan m, Report r, Map<String, String> own) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put(AiPlanner.HANDLE_PID, Long.toString(r.pid()));
        h.put(AiPlanner.HANDLE_NODE, r.node());
        h.put(AiPlanner.HANDLE_SOCKET, m.socket().toString());
        h.putAll(own);
        return h;
    }

    /** The model server entries of a recorded handle ({@code ai.*}), to carry over to a restarted shard's record. */
    public static Map<String, String> entries(LaunchedShard s) {
        Map<String, String> out = new LinkedHashMap<>();
        s.handle().forEach((k, val) -> {
            if (k.startsWith(AiPlanner.HANDLE_PREFIX)) {
                out.put(k, val);
            }
        });
        return out;
    }

    /**
     * Waits until each of {@code servers} has reported and printed its ready line, within {@code deadline}; returns
     * their reports by model server index. {@code ended} tells, for one of them, how its carrier ended if it has (its
     * run command exited, its job left the queue): asked at most once a second. A model server whose carrier ended,
     * whose wrapper failed, or that is not ready in time fails the wait, naming it, its node and socket, with its
     * console's tail; {@code then} says what was done about it ("every step of this launch was cancelled").
     */
    public static Map<Integer, Report> await(LaunchPlan plan, CommandRunner runner, List<ModelServerPlan> servers,
                                             Deadline deadline, Function<ModelServerPlan, Optional<String>> ended,
                                             String then) throws InterruptedException {
        Map<Integer, Report> out = new LinkedHashMap<>();
        Backoff backoff = new Backoff(deadline, Duration.ofMillis(20), Duration.ofMillis(250));
        Instant lastCheck = Instant.EPOCH;
        Duration cap = Duration.ofMillis(Math.max(1000, deadline.capMillis(BatchStart.COMMAND_TIMEOUT)));
        while (true) {
            boolean check = Duration.between(lastCheck, Instant.now()).compareTo(Duration.ofSeconds(1)) >= 0;
            if (check) {
                lastCheck = Instant.now();
            }
            boolean all = true;
            for (ModelServerPlan m : servers) {
                if (out.containsKey(m.index())) {
                    continue;
                }
                Optional<Report> r;
                try {
                    r = readReport(runner, m, cap);
                } catch (Landing.WrapperFailed e) {
                    throw notReady(plan, runner, m, Optional.empty(), "did not start: " + e.getMessage(), then);
                }
                if (r.isPresent() && ready(runner, m, cap)) {
                    out.put(m.index(), r.get());
                    continue;
                }
                all = false;
                if (check) {
                    Optional<String> how = ended.apply(m);
                    if (how.isPresent()) {
                        // it may have printed its ready line just before: read once more
                        r = readReport(runner, m, cap);
                        if (r.isPresent() && ready(runner, m, cap)) {
                            out.put(m.index(), r.get());
                            continue;
                        }
                        throw notReady(plan, runner, m, r, how.get() + " before it was ready", then);
                    }
                }
            }
            if (all) {
                return out;
            }
            if (!backoff.pause()) {
                ModelServerPlan late = servers.stream().filter(m -> !out.containsKey(m.index())).findFirst()
                        .orElseThrow();
                throw notReady(plan, runner, late, readReport(runner, late, cap), "was not ready within "
                        + plan.spec().startupTimeout().toSeconds() + " s", then);
            }
        }
    }

    private static ShardStartException notReady(LaunchPlan plan, CommandRunner runner, ModelServerPlan m,
                                                Optional<Report> r, String how, String then) {
        String where = r.map(x -> "node " + x.node() + (x.step().isEmpty() ? "" : ", step " + x.job() + "."
                + x.step())).orElse("node " + m.host());
        return new ShardStartException("the --ai model server " + m.index() + " of '" + plan.id() + "' (" + where
                + ", socket " + m.socket() + ") " + how + "; " + then + ".\n" + runner.logTail(m.console(), 12));
    }

    /**
     * A watchdog's revive of {@code plan}'s model servers, once for every scheduler: each model server whose shards'
     * records {@code live} judges (none UNKNOWN) and none of which finds it alive is started again by
     * {@code startAgain} (given one of its shards), unless {@code notNow} says to wait (its node's shards are down:
     * they are restarted first); a shard that records another model server than the running one gets its entries.
     * Returns the shards whose records changed.
     */
    public static List<LaunchedShard> revive(LaunchPlan plan, List<LaunchedShard> shards, Map<Integer, Liveness> live,
                                             Predicate<List<LaunchedShard>> notNow,
                                             BiFunction<ModelServerPlan, LaunchedShard, Map<String, String>> startAgain) {
        List<LaunchedShard> changed = new ArrayList<>();
        for (ModelServerPlan m : plan.modelServers()) {
            List<LaunchedShard> served = shards.stream().filter(s -> m.shards().contains(s.index())
                    && live.containsKey(s.index())).toList();
            if (served.isEmpty() || served.stream().anyMatch(s -> live.get(s.index()) == Liveness.UNKNOWN)) {
                continue; // nothing recorded, or its launcher could not tell now: not judged
            }
            Optional<LaunchedShard> withLive = served.stream().filter(s -> live.get(s.index()) == Liveness.ALIVE)
                    .findFirst();
            if (withLive.isEmpty() && notNow.test(served)) {
                continue;
            }
            Map<String, String> current = withLive.isPresent() ? entries(withLive.get())
                    : startAgain.apply(m, served.get(0));
            for (LaunchedShard s : served) {
                if (!entries(s).equals(current)) {
                    changed.add(s.withHandleEntries(current));
                }
            }
        }
        return changed;
    }

    /**
     * Model server {@code m}, found gone, started again by a watchdog: its old report removed and its console kept as
     * {@code .1}, its run command spawned by {@code spawn} (the same socket, so the modules reconnect), awaited until
     * ready within {@code ctx}'s deadline, and said in a progress line. On a failure or an interrupt the run command is
     * ended and the failure thrown (an interrupt as a {@link LaunchException}, the thread's flag set again). Returns
     * the handle entries of its shards.
     *
     * @param carrier what the run command is called in messages ("srun", "ssh")
     * @param undone  what a failure did ("its new step was cancelled; the shards keep serving data")
     * @param own     the launcher's handle keys for the report and the run command ({@link #handle}'s {@code own})
     * @param where   how it reads in the progress line ("step 12.4", "pid 77, ssh")
     */
    public static Map<String, String> startAgain(LaunchPlan plan, CommandRunner runner, ModelServerPlan m,
                                                 Duration commandTimeout, Supplier<Detached> spawn, String carrier,
                                                 String undone, LaunchContext ctx,
                                                 BiFunction<Report, Detached, Map<String, String>> own,
                                                 Function<Report, String> where) {
        runner.deleteFiles(List.of(reportPath(m)), commandTimeout);
        runner.keepPrevious(List.of(m.console()), commandTimeout);
        Detached run = spawn.get();
        try {
            Report r = await(plan, runner, List.of(m), ctx.deadline(), x -> run.exit().map(e -> "its " + carrier
                    + " " + e), undone).get(m.index());
            ctx.progress().accept("--ai model server " + m.index() + " started again on node " + r.node() + " ("
                    + where.apply(r) + ")");
            return handle(m, r, own.apply(r, run));
        } catch (RuntimeException e) {
            end(run);
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            end(run);
            throw new LaunchException("interrupted while starting the --ai model server " + m.index() + " of '"
                    + plan.id() + "' again; its " + carrier + " was ended", e);
        }
    }

    /** Ends a run command (an srun its step, an ssh client its session), keeping an interrupt for the caller. */
    private static void end(Detached run) {
        boolean interrupted = Thread.interrupted();
        try {
            run.terminate(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            interrupted = true;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
