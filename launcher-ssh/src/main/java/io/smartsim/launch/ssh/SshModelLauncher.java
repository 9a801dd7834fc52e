package io.smartsim.launch.ssh;

import io.smartsim.launch.colocated.ColocatedPlanner;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.script.Shell;
import io.smartsim.launch.spec.RunSettings;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.spi.LaunchedModel;
import io.smartsim.launch.spi.ModelLauncher;
import io.smartsim.launch.spi.ModelState;
import io.smartsim.launch.spi.RenderedLaunch;
import io.smartsim.launch.util.Parallel;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs models on the ssh launcher's hosts, as its orchestrators run: node {@code i} of a model is the {@code i}-th of
 * {@code launcherOptions.hosts}, reached with the same SSH settings ({@code ssh-user}, {@code identity},
 * {@code ssh-config}, ...). Each node runs its share of the ranks ({@code tasksPerNode}, or the tasks spread as evenly
 * as they go, the first nodes taking one more), each rank with {@code SMARTSIM_RANK} (0..N-1 across the model) and
 * {@code SMARTSIM_NTASKS}, detached in a session of its own on the host so it outlives this process; the model ends
 * when every node's ranks have, with the first non-zero exit code in node and rank order. stdout and stderr go to the
 * plan's files at the same path on each host (appended: on a shared file system the nodes' lines share one file).
 * What the model needs there (its config files, a colocated database's wrapper and config) is copied to each host
 * first; the executable and its working directory must exist at the same path on every host.
 *
 * <p>Its handle records the hosts, each node's pid and exit file, and the SSH settings, so a later process (a
 * {@code reconnect}, {@code db cleanup}) polls and stops it with its exit codes. No run command: the run settings
 * it honours are {@code nodes}, {@code tasks} and {@code tasksPerNode}; it refuses the others, naming them.
 */
public final class SshModelLauncher implements ModelLauncher {
    static final String HANDLE_HOSTS = "hosts";
    static final String HANDLE_PIDS = "pids";
    static final String HANDLE_EXITS = "exit-files";
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    /**
     * One node's ranks: {@code bash -c RANKS ranks N FIRST TOTAL ARGV...} starts N copies of ARGV with
     * {@code SMARTSIM_RANK} FIRST..FIRST+N-1 and {@code SMARTSIM_NTASKS} TOTAL, and exits with the first non-zero exit
     * code in rank order (0 when all succeed).
     */
    static final String RANKS = "n=$1; first=$2; total=$3; shift 3; pids=(); "
            + "for ((r = 0; r < n; r++)); do SMARTSIM_RANK=$((first + r)) SMARTSIM_NTASKS=$total \"$@\" & "
            + "pids+=($!); done; "
            + "rc=0; for p in \"${pids[@]}\"; do wait \"$p\"; c=$?; [ \"$rc\" -eq 0 ] && rc=$c; done; exit \"$rc\"";

    /**
     * Starts one node's command detached (its own session: a signal to {@code -PID} reaches every rank) and prints its
     * pid, once that is its process group ({@link SshCommands#AWAIT_OWN_GROUP}). Arguments: work dir, stdout file,
     * stderr file, exit file, environment file, then the argv. The environment
     * file (owner-only, {@code export NAME='value'} lines: the database variables, a password among them, never on a
     * command line that {@code ps} shows other users) is read, then removed. When the command ends its exit code is
     * written to the exit file.
     */
    static final String SPAWN = String.join("\n",
            "mkdir -p -- \"$(dirname -- \"$2\")\" \"$(dirname -- \"$3\")\" \"$(dirname -- \"$4\")\" || exit 3",
            "cd -- \"$1\" || exit 3",
            "out=$2; err=$3; ex=$4; envf=$5; shift 5",
            ". \"$envf\" || exit 3",
            "rm -f -- \"$envf\" \"$ex\"",
            "if command -v setsid >/dev/null 2>&1; then detach=setsid; else detach=; fi",
            "nohup $detach sh -c '\"$@\"; echo $? >\"$0\"' \"$ex\" \"$@\" >>\"$out\" 2>>\"$err\" </dev/null &",
            "pid=$!",
            SshCommands.AWAIT_OWN_GROUP,
            "echo $pid");

    /**
     * Whether anything of process group {@code $1} still runs: exit 0 if so. Zombies do not count: a node's processes
     * are orphans once their SSH session has ended, and the host's init may take seconds to reap them.
     */
    static final String GROUP_ALIVE = "ps -e -o pgid= -o stat= | awk -v g=\"$1\" "
            + "'$1 == g && $2 !~ /^Z/ { alive = 1 } END { exit alive ? 0 : 1 }'";

    /**
     * How a node is doing. Arguments: its exit file, its process group. Prints "exited with code N" or "ended (...)"
     * (gone without an exit code: killed) and exits 0, or exits {@link SshCommands#RUNNING} while any of it runs. The
     * exit file is read again once the group is gone: a node that wrote it and ended after the first look has exited,
     * not been killed (its wrapper writes the code before it ends, so a group that is gone has written it, if ever).
     */
    static final String NODE_CHECK = String.join("\n",
            "ex=$1",
            SshCommands.EXITED,
            "set -- \"$2\"",
            GROUP_ALIVE + " && exit " + SshCommands.RUNNING,
            SshCommands.EXITED,
            "echo 'ended (killed, or its session was ended)'");

    /** What this instance started, by model id: it knows which it cancelled. */
    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
    /** One runner per host and SSH settings, kept for the polls (their sessions' threads are daemons). */
    private final Map<String, SshCommandRunner> runners = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return SshLauncher.NAME;
    }

    @Override
    public Set<String> optionKeys() {
        return SshOptions.KEYS;
    }

    @Override
    public boolean runsColocatedDatabases() {
        return true;
    }

    @Override
    public void validate(ModelPlan plan) {
        String model = "model '" + plan.name() + "'";
        if (!plan.launcherOptions().containsKey(SshOptions.HOSTS)) {
            throw new InvalidSpecException("launcherOptions.hosts", model + " runs on the ssh launcher, which needs "
                    + "the hosts to run it on: launcherOptions: {hosts: node1,node2} in YAML, "
                    + ".launcherOption(\"hosts\", \"node1,node2\") in Java");
        }
        SshOptions opts = SshOptions.parse(plan.launcherOptions());
        RunSettings r = plan.run();
        if (r.nodes() > opts.hosts().size()) {
            throw new InvalidSpecException("run.nodes", model + " asks for " + r.nodes() + " nodes but "
                    + "launcherOptions.hosts names " + opts.hosts().size() + " " + opts.hosts() + "; name more hosts or "
                    + "ask for fewer nodes");
        }
        if (r.totalTasks() < r.nodes()) {
            throw new InvalidSpecException("run.tasks", model + " asks for " + r.totalTasks() + " task(s) on "
                    + r.nodes() + " nodes, which leaves a node without a rank; give at least one task per node");
        }
        String fix = "; the ssh launcher starts the ranks itself, with no run command or scheduler: remove it";
        if (r.cpusPerTask() != 1) {
            throw new InvalidSpecException("run.cpusPerTask", model + " asks for " + r.cpusPerTask()
                    + " CPUs per task, which the ssh launcher cannot reserve" + fix);
        }
        if (!r.runArgs().isEmpty()) {
            throw new InvalidSpecException("run.runArgs", model + " gives run-command arguments " + r.runArgs()
                    + fix);
        }
        if (r.batch().isPresent()) {
            throw new InvalidSpecException("run.batch", model + " asks for a batch job" + fix);
        }
        if (r.alloc().isPresent()) {
            throw new InvalidSpecException("run.alloc", model + " names allocation " + r.alloc().get() + fix);
        }
    }

    /** Ranks per node, in node order: tasksPerNode each, or the tasks spread evenly with the first nodes one more. */
    static List<Integer> ranksPerNode(RunSettings r) {
        List<Integer> out = new ArrayList<>();
        int total = r.totalTasks();
        for (int i = 0; i < r.nodes(); i++) {
            out.add(r.tasksPerNode().isPresent() && r.tasks().isEmpty() ? r.tasksPerNode().get()
                    : total / r.nodes() + (i < total % r.nodes() ? 1 : 0));
        }
        return out;
    }

    /** Node {@code node}'s command: its ranks of the plan's rank argv under {@link #RANKS}. */
    static List<String> nodeArgv(ModelPlan plan, int node) {
        List<Integer> per = ranksPerNode(plan.run());
        int first = per.subList(0, node).stream().mapToInt(Integer::intValue).sum();
        List<String> out = new ArrayList<>(List.of("bash", "-c", RANKS, "ranks", Integer.toString(per.get(node)),
                Integer.toString(first), Integer.toString(plan.run().totalTasks())));
        out.addAll(plan.rankArgv());
        return out;
    }

    /** Where node {@code node}'s environment is written for its start, on its host (removed once read). */
    static Path envFile(ModelPlan plan, int node) {
        return plan.dir().resolve(plan.name() + ".node" + node + ".env");
    }

    /** {@code env} as the lines of a file {@code sh} sources: {@code export NAME=value}, each value quoted. */
    static String exports(Map<String, String> env) {
        StringBuilder sb = new StringBuilder();
        env.forEach((k, v) -> sb.append("export ").append(k).append('=').append(Shell.quote(v)).append('\n'));
        return sb.toString();
    }

    /** Where node {@code node}'s exit code lands, on its host. */
    static Path exitFile(ModelPlan plan, int node) {
        return plan.dir().resolve(plan.name() + ".node" + node + ".exit");
    }

    private static Map<String, String> environment(ModelPlan plan, Map<String, String> dbEnv) {
        Map<String, String> env = new LinkedHashMap<>(dbEnv);
        env.putAll(plan.env());
        return env;
    }

    /** The files each host gets before the ranks start: config files, a colocated database's wrapper and config. */
    private static Map<String, String> files(ModelPlan plan) {
        Map<String, String> out = new LinkedHashMap<>();
        plan.files().forEach(f -> out.put(f.target().toString(), f.content()));
        plan.colocated().ifPresent(c -> out.putAll(ColocatedPlanner.files(c)));
        return out;
    }

    /**
     * The first node's command as {@code ssh HOST ...} runs it, and which ranks each host runs ({@code ssh-nodes}),
     * with the files copied to every host.
     */
    @Override
    public RenderedLaunch render(ModelPlan plan, Map<String, String> dbEnv) {
        List<String> hosts = SshOptions.parse(plan.launcherOptions()).hosts();
        List<Integer> per = ranksPerNode(plan.run());
        StringBuilder nodes = new StringBuilder();
        int first = 0;
        for (int i = 0; i < per.size(); i++) {
            nodes.append("node ").append(i).append(": ").append(hosts.get(i)).append(", ranks ").append(first)
                    .append(per.get(i) > 1 ? "-" + (first + per.get(i) - 1) : "").append(", exit code to ")
                    .append(exitFile(plan, i)).append('\n');
            first += per.get(i);
        }
        Map<String, String> scripts = new LinkedHashMap<>();
        scripts.put("ssh-nodes", nodes.toString());
        scripts.putAll(files(plan));
        List<String> argv = new ArrayList<>(List.of("ssh", hosts.get(0)));
        argv.addAll(nodeArgv(plan, 0));
        return new RenderedLaunch(argv, environment(plan, dbEnv), scripts);
    }

    private SshCommandRunner runner(String host, SshFlags flags, Map<String, String> recorded) {
        String key = host + " " + new java.util.TreeMap<>(recorded);
        return runners.computeIfAbsent(key, k -> new SshCommandRunner(SshConfigResolver.forUser(flags.configFile())
                .resolve(host, flags)));
    }

    @Override
    public LaunchedModel start(ModelPlan plan, Map<String, String> dbEnv) {
        SshOptions opts = SshOptions.parse(plan.launcherOptions());
        Map<String, String> recorded = opts.recorded();
        List<String> hosts = opts.hosts().subList(0, plan.run().nodes());
        Map<String, String> env = environment(plan, dbEnv);
        Map<String, String> files = files(plan);
        Instant t0 = Instant.now();
        // Every host side by side; each one's outcome kept (a pid or its failure), so that when one fails the ranks
        // already started on the others are known and stopped: nothing is left behind.
        List<NodeStart> outcomes = Parallel.map(java.util.stream.IntStream.range(0, hosts.size()).boxed().toList(), i -> {
            try {
                return new NodeStart(startOn(plan, i, runner(hosts.get(i), opts.flags(), recorded), hosts.get(i), env,
                        files), null);
            } catch (RuntimeException e) {
                return new NodeStart(null, e);
            }
        });
        Optional<RuntimeException> failed = outcomes.stream().map(NodeStart::failure).filter(f -> f != null)
                .findFirst();
        if (failed.isPresent()) {
            for (int i = 0; i < outcomes.size(); i++) {
                Long pid = outcomes.get(i).pid();
                if (pid != null) {
                    try {
                        runner(hosts.get(i), opts.flags(), recorded).run(SshCommands.killGroup("KILL", pid),
                                COMMAND_TIMEOUT);
                    } catch (RuntimeException stop) {
                        failed.get().addSuppressed(stop);
                    }
                }
            }
            throw failed.get();
        }
        List<Long> pids = outcomes.stream().map(NodeStart::pid).toList();
        Map<String, String> handle = new LinkedHashMap<>(recorded);
        handle.put(HANDLE_HOSTS, String.join(",", hosts));
        handle.put(HANDLE_PIDS, String.join(",", pids.stream().map(String::valueOf).toList()));
        List<String> exits = new ArrayList<>();
        for (int i = 0; i < hosts.size(); i++) {
            exits.add(exitFile(plan, i).toString());
        }
        handle.put(HANDLE_EXITS, String.join(",", exits));
        handle.put(LaunchedModel.NODE, String.join(",", hosts));
        List<String> id = new ArrayList<>();
        for (int i = 0; i < hosts.size(); i++) {
            id.add(hosts.get(i) + ":" + pids.get(i));
        }
        return new LaunchedModel(plan.name(), name(), String.join(",", id), Optional.empty(), t0, handle);
    }

    /** One node's start: its pid, or why it failed. */
    private record NodeStart(Long pid, RuntimeException failure) {
    }

    /** Node {@code i}'s files written, its executable checked and its ranks started on {@code host}: their pid. */
    private static long startOn(ModelPlan plan, int i, SshCommandRunner r, String host, Map<String, String> env,
                                Map<String, String> files) {
        for (Map.Entry<String, String> f : files.entrySet()) {
            r.writeFile(f.getKey(), f.getValue(), COMMAND_TIMEOUT);
        }
        String exe = plan.exe();
        if (!r.run(SshCommands.which(exe), COMMAND_TIMEOUT).ok()) {
            throw new LaunchException("model '" + plan.name() + "': " + exe + (exe.contains("/")
                    ? " is not an executable file" : " was not found on the PATH of a non-interactive SSH command")
                    + " on host " + host + " (" + r.where() + "); every host runs the same path: install or copy it "
                    + "there, or give its full path");
        }
        r.writeFile(envFile(plan, i).toString(), exports(env), COMMAND_TIMEOUT);
        List<String> argv = new ArrayList<>(List.of("sh", "-c", SPAWN, "sh", plan.workDir().toString(),
                plan.stdout().toString(), plan.stderr().toString(), exitFile(plan, i).toString(),
                envFile(plan, i).toString()));
        argv.addAll(nodeArgv(plan, i));
        CommandResult res = r.run(argv, COMMAND_TIMEOUT);
        List<Long> one = res.ok() ? parsePids(res.stdout()) : List.of();
        if (one.size() != 1) {
            throw new LaunchException("model '" + plan.name() + "' could not start on host " + host + " ("
                    + r.where() + ") in " + plan.workDir() + ": " + res.describe());
        }
        return one.get(0);
    }

    private static List<Long> parsePids(String stdout) {
        try {
            return SshCommands.parsePids(stdout);
        } catch (NumberFormatException e) {
            return List.of();
        }
    }

    /** One node of a started model, as its handle records it. */
    private record Node(String host, long pid, String exitFile, SshCommandRunner runner) {
    }

    private List<Node> nodes(LaunchedModel m) {
        Map<String, String> h = m.handle();
        String[] hosts = h.getOrDefault(HANDLE_HOSTS, "").split(",");
        String[] pids = h.getOrDefault(HANDLE_PIDS, "").split(",");
        String[] exits = h.getOrDefault(HANDLE_EXITS, "").split(",");
        if (hosts.length != pids.length || hosts.length != exits.length || hosts[0].isEmpty()) {
            throw new LaunchException("model '" + m.name() + "' has no recorded hosts, pids and exit files; its "
                    + "manifest entry was not written by the ssh launcher");
        }
        Map<String, String> recorded = new LinkedHashMap<>();
        h.forEach((k, v) -> {
            if (SshOptions.RECORDED.contains(k)) {
                recorded.put(k, v);
            }
        });
        SshFlags flags = SshOptions.flags(recorded);
        List<Node> out = new ArrayList<>();
        for (int i = 0; i < hosts.length; i++) {
            out.add(new Node(hosts[i], Long.parseLong(pids[i]), exits[i], runner(hosts[i], flags, recorded)));
        }
        return out;
    }

    /** "exited with code N", "ended (...)" once the node's command has ended; empty while it runs. */
    private static Optional<String> ended(Node n) {
        CommandResult r = n.runner().run(List.of("sh", "-c", NODE_CHECK, "sh", n.exitFile(), Long.toString(n.pid())),
                COMMAND_TIMEOUT);
        if (r.exitCode() == SshCommands.RUNNING) {
            return Optional.empty();
        }
        if (!r.ok()) {
            throw new LaunchException("could not ask host " + n.host() + " (" + n.runner().where() + ") about pid "
                    + n.pid() + ": " + r.describe());
        }
        return Optional.of(r.stdout().strip());
    }

    @Override
    public Map<String, ModelState> poll(List<LaunchedModel> models) {
        Map<String, ModelState> out = new LinkedHashMap<>();
        for (LaunchedModel m : models) {
            out.put(m.name(), state(m));
        }
        return out;
    }

    private ModelState state(LaunchedModel m) {
        Optional<Integer> code = Optional.empty();
        Optional<String> detail = Optional.empty();
        for (Node n : nodes(m)) {
            Optional<String> end = ended(n);
            if (end.isEmpty()) {
                return ModelState.of(EntityStatus.RUNNING);
            }
            if (code.isEmpty() || code.get() == 0) {
                String e = end.get();
                if (e.startsWith("exited with code ")) {
                    int c = Integer.parseInt(e.substring("exited with code ".length()).strip());
                    if (code.isEmpty() || c != 0) {
                        code = Optional.of(c);
                        detail = c == 0 ? Optional.empty() : Optional.of("ranks on " + n.host() + " exited with code "
                                + c + (c > 128 && c < 160 ? " (killed by signal " + (c - 128) + ")" : ""));
                    }
                } else {
                    code = Optional.of(-1);
                    detail = Optional.of("ranks on " + n.host() + " " + e);
                }
            }
        }
        if (cancelled.contains(m.id())) {
            return new ModelState(EntityStatus.CANCELLED, code.filter(c -> c >= 0), Optional.of("stopped on request"));
        }
        if (code.orElse(0) == 0) {
            return new ModelState(EntityStatus.COMPLETED, Optional.of(0), Optional.empty());
        }
        return new ModelState(EntityStatus.FAILED, code.filter(c -> c >= 0), detail);
    }

    /** Ends the SSH sessions kept for the polls; a later call opens new ones. */
    @Override
    public void close() {
        List<SshCommandRunner> open = new ArrayList<>(runners.values());
        runners.clear();
        open.forEach(SshCommandRunner::close);
    }

    @Override
    public void stop(List<LaunchedModel> models, Duration grace) {
        List<Node> running = new ArrayList<>();
        for (LaunchedModel m : models) {
            boolean any = false;
            for (Node n : nodes(m)) {
                if (ended(n).isEmpty()) {
                    running.add(n);
                    any = true;
                }
            }
            if (any) {
                cancelled.add(m.id());
            }
        }
        running.forEach(n -> n.runner().run(SshCommands.killGroup("TERM", n.pid()), COMMAND_TIMEOUT));
        long until = System.nanoTime() + grace.toNanos();
        try {
            while (!running.isEmpty() && System.nanoTime() < until) {
                running.removeIf(n -> !n.runner().run(List.of("sh", "-c", GROUP_ALIVE, "sh", Long.toString(n.pid())),
                        COMMAND_TIMEOUT).ok());
                if (!running.isEmpty()) {
                    Thread.sleep(100);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        running.forEach(n -> n.runner().run(SshCommands.killGroup("KILL", n.pid()), COMMAND_TIMEOUT));
    }
}
