package io.smartsim.launch.ssh;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Pure argv builders and output parsers for what the ssh launcher runs on a host. */
final class SshCommands {
    /**
     * Starts shards detached and prints one pid a line, in order. Arguments: the server binary, then seven per
     * shard: work dir, config file, console file, the cluster's node map from an earlier run (removed first: it
     * would make the shard rejoin its old cluster), the log (the earlier run's log and console are kept as NAME.1),
     * the address
     * to announce to the cluster ("" when standalone): a host with several addresses would otherwise announce
     * the source address the kernel picks for the cluster bus, which the other shards may not reach; and the shard's
     * {@link #marker}, put in the environment of what is started ({@value #MARKER_VAR}) so the start chain
     * ({@code nohup}, {@code setsid}, a wrapper script, the server before it sets its title) is known as the shard
     * ({@link Ps#isShard}).
     * {@code setsid} puts the server in its own session, so it outlives this SSH session; {@code $!} is the
     * server itself, since neither nohup nor setsid forks here. {@code umask 077}: every file a server writes
     * (snapshots, AOF, node map, log) is owner-only.
     */
    static final String MARKER_VAR = "SMARTSIM_LAUNCH_SHARD";
    static final String START_SCRIPT = String.join("\n",
            "bin=$1; shift",
            "umask 077",
            "if command -v setsid >/dev/null 2>&1; then detach=setsid; else detach=; fi",
            "while [ $# -ge 7 ]; do",
            "  cd -- \"$1\" || exit 3",
            "  rm -f -- \"$4\"",
            "  for f in \"$5\" \"$3\"; do if [ -e \"$f\" ]; then mv -f -- \"$f\" \"$f.1\" || exit 3; fi; done",
            "  if [ -n \"$6\" ]; then",
            "    " + MARKER_VAR + "=\"$7\" nohup $detach \"$bin\" \"$2\" --cluster-announce-ip \"$6\" >\"$3\" 2>&1 </dev/null &",
            "  else",
            "    " + MARKER_VAR + "=\"$7\" nohup $detach \"$bin\" \"$2\" >\"$3\" 2>&1 </dev/null &",
            "  fi",
            "  echo $!",
            "  shift 7",
            "done");

    /** Each existing file argument becomes {@code NAME.1} (the previous run's log kept); see keepPrevious. */
    static final String KEEP_PREVIOUS_SCRIPT =
            "for f do if [ -e \"$f\" ]; then mv -f -- \"$f\" \"$f.1\" || exit 1; fi; done";

    /**
     * Starts the lease guards ({@code --lease}) detached, like the shards, and prints one pid a line, in order.
     * Arguments: the guard script, then three per shard: the server's pid, the shard's index, the guard's output
     * file. Each guard ends by itself within a second of its server.
     */
    static final String GUARD_SCRIPT = String.join("\n",
            "g=$1; shift",
            "umask 077",
            "if command -v setsid >/dev/null 2>&1; then detach=setsid; else detach=; fi",
            "while [ $# -ge 3 ]; do",
            "  nohup $detach /bin/bash \"$g\" \"$1\" \"$2\" >\"$3\" 2>&1 </dev/null &",
            "  echo $!",
            "  shift 3",
            "done");

    /**
     * After {@code nohup $detach ... &} and {@code pid=$!}: waits, at most 5 s, until process {@code $pid} leads a
     * process group of its own (setsid has run) or has ended, so that the pid printed is already its group. A kill of
     * {@code -PID} sent right after the spawn returned (a failed start's cleanup, one host refusing while another's
     * spawn had just returned) found no such group before setsid ran, and the node went on running.
     */
    static final String AWAIT_OWN_GROUP = "n=0; while [ -n \"$detach\" ] && [ \"$n\" -lt 500 ] "
            + "&& kill -0 \"$pid\" 2>/dev/null && [ \"$(ps -o pgid= -p \"$pid\" | tr -d ' ')\" != \"$pid\" ]; "
            + "do sleep 0.01; n=$((n + 1)); done";

    /**
     * Starts one command detached in its own session and prints its pid (which is also its process group, so a
     * signal to {@code -PID} reaches what it started, such as {@code srun}). Arguments: work dir, console file,
     * then the argv. When the command ends its exit code is written to the console file's name plus
     * {@code .exit}, so a later check can tell "exited with code N" from "still running".
     */
    static final String SPAWN_SCRIPT = String.join("\n",
            "cd -- \"$1\" || exit 3",
            "c=$2; shift 2",
            "rm -f -- \"$c.exit\"",
            "if command -v setsid >/dev/null 2>&1; then detach=setsid; else detach=; fi",
            "nohup $detach sh -c '\"$@\"; echo $? >\"$0.exit\"' \"$c\" \"$@\" >>\"$c\" 2>&1 </dev/null &",
            "pid=$!",
            AWAIT_OWN_GROUP,
            "echo $pid");

    /**
     * With {@code $ex} an exit file: prints "exited with code N" and exits 0 once the file holds a code (empty: still
     * being written, so not yet). The checks below look twice, before and after finding the process gone.
     */
    static final String EXITED = "code=$(cat -- \"$ex\" 2>/dev/null); "
            + "if [ -n \"$code\" ]; then printf 'exited with code %s\\n' \"$code\"; exit 0; fi";

    /**
     * How a detached command is doing. Arguments: its exit file, its pid. Prints "exited with code N" or
     * "ended" (gone without an exit file: killed) and exits 0, or exits {@link #RUNNING} while it runs. The exit file
     * is read again once the process is gone: one that wrote it and ended after the first look has exited.
     */
    static final String CHECK_SCRIPT = String.join("\n",
            "ex=$1",
            EXITED,
            "kill -0 \"$2\" 2>/dev/null && exit 3",
            EXITED,
            "echo 'ended (killed, or its session was ended)'");
    static final int RUNNING = 3;

    /** Prints the binary's path when the remote PATH has it; exits 127 otherwise. */
    static final String WHICH_SCRIPT = "command -v -- \"$1\" || exit 127";

    private SshCommands() {
    }

    /** One shard to start, as {@link #START_SCRIPT} takes it; {@code marker} is {@link #marker} of the shard. */
    record Start(String workDir, String config, String console, String nodeMap, String log, String announce,
                 String marker) {
    }

    static List<String> start(String binary, List<Start> shards) {
        List<String> argv = new ArrayList<>(List.of("sh", "-c", START_SCRIPT, "sh", binary));
        for (Start s : shards) {
            argv.addAll(List.of(s.workDir(), s.config(), s.console(), s.nodeMap(), s.log(), s.announce(), s.marker()));
        }
        return argv;
    }

    /**
     * What a shard's start chain carries in {@value #MARKER_VAR}: its name and port ({@code db_0:6780}), as unique on
     * a host as the port in the title Redis sets, and known from the manifest alone.
     */
    static String marker(String shardName, int port) {
        return shardName + ":" + port;
    }

    /** One lease guard to start, as {@link #GUARD_SCRIPT} takes it. */
    record Guard(long serverPid, int shard, String output) {
    }

    static List<String> guards(String script, List<Guard> guards) {
        List<String> argv = new ArrayList<>(List.of("sh", "-c", GUARD_SCRIPT, "sh", script));
        for (Guard g : guards) {
            argv.addAll(List.of(Long.toString(g.serverPid()), Integer.toString(g.shard()), g.output()));
        }
        return argv;
    }

    /** Whether a live process is a lease guard (its command line runs the guard script): only those are signalled. */
    static boolean isGuard(String args) {
        return args.contains(io.smartsim.launch.supervise.LeaseGuard.FILE);
    }

    /** Whether a live process is the lease guard of server {@code serverPid}, shard {@code shard}. */
    static boolean isGuardOf(String args, long serverPid, int shard) {
        return args.strip().endsWith(io.smartsim.launch.supervise.LeaseGuard.FILE + " " + serverPid + " " + shard);
    }

    /**
     * The shards a host's {@link #shardPs} (of its servers' and guards' pids) shows running without their lease guard:
     * the server's pid is the shard ({@link Ps#isShard}) and the recorded guard's pid is not a guard of it (gone, or
     * reused by something else). Shards without a recorded pid are not judged.
     */
    static java.util.Set<Integer> missingGuards(Ps ps, List<io.smartsim.launch.spi.LaunchedShard> shards,
                                                String guardKey) {
        java.util.Set<Integer> out = new java.util.TreeSet<>();
        for (io.smartsim.launch.spi.LaunchedShard s : shards) {
            if (!ps.isShard(s)) {
                continue;
            }
            String g = s.handle().get(guardKey);
            Long guard = g == null ? null : Long.parseLong(g);
            if (guard == null || !ps.args().containsKey(guard) || !isGuardOf(ps.args().get(guard), s.pid().get(),
                    s.index())) {
                out.add(s.index());
            }
        }
        return out;
    }

    static List<String> spawn(String workDir, String console, List<String> argv) {
        List<String> out = new ArrayList<>(List.of("sh", "-c", SPAWN_SCRIPT, "sh", workDir, console));
        out.addAll(argv);
        return out;
    }

    static List<String> check(String exitFile, long pid) {
        return List.of("sh", "-c", CHECK_SCRIPT, "sh", exitFile, Long.toString(pid));
    }

    /** Signals a detached command's whole process group (it leads its own session). */
    static List<String> killGroup(String signal, long pid) {
        return List.of("kill", "-s", signal, "--", "-" + pid);
    }

    static List<String> which(String binary) {
        return List.of("sh", "-c", WHICH_SCRIPT, "sh", binary);
    }

    /** One {@code ps} for all of a host's pids: pid and command line (the title Redis sets names its port). */
    static List<String> ps(List<Long> pids) {
        return List.of("ps", "-p", pids.stream().map(String::valueOf).collect(Collectors.joining(",")), "-o",
                "pid=,args=");
    }

    /**
     * What a host's shard pids are, in three parts separated by a {@code --} line: {@link #ps} of them; each one's
     * {@value #MARKER_VAR} from {@code /proc/PID/environ} (a {@code PID/environ:NAME=VALUE} line each, where it has
     * one); {@link #ps} again. A server that is still being started (a wrapper script, or {@code nohup}/{@code setsid}
     * not yet exec'd into it, or the server before it sets its title) does not name its port yet, and is known by the
     * marker; Redis blanks its environment when it sets its title, so the second {@code ps} is what sees a server that
     * set it while the environment was read (the first is what sees the forked shell before its first exec, whose
     * arguments, the start script's, name the marker). So a shard on its way up is seen by at least one of the three.
     * Where {@code /proc} or GNU grep is missing, the environment part is empty and only the title counts.
     * Parsed by {@link Ps#parse}.
     */
    static final String SHARD_PS_SCRIPT = String.join("\n",
            "pids=$1; shift",
            "ps -p \"$pids\" -o pid=,args=",
            "echo --",
            "(cd /proc 2>/dev/null && grep -H -a -z -o '^" + MARKER_VAR + "=.*' \"$@\" 2>/dev/null | tr '\\0' '\\n')",
            "echo --",
            "ps -p \"$pids\" -o pid=,args=",
            "exit 0");

    static List<String> shardPs(List<Long> pids) {
        List<String> argv = new ArrayList<>(List.of("sh", "-c", SHARD_PS_SCRIPT, "sh",
                pids.stream().map(String::valueOf).collect(Collectors.joining(","))));
        pids.forEach(p -> argv.add(p + "/environ"));
        return argv;
    }

    /**
     * A host's answer to {@link #shardPs}: pid -> command line as the first {@code ps} saw it ({@code before}), pid ->
     * its {@value #MARKER_VAR} where it had one, and pid -> command line as the last {@code ps} saw it ({@code args}:
     * the processes alive now).
     */
    record Ps(Map<Long, String> before, Map<Long, String> markers, Map<Long, String> args) {
        Ps {
            before = Map.copyOf(before);
            markers = Map.copyOf(markers);
            args = Map.copyOf(args);
        }

        static Ps parse(String stdout) {
            List<StringBuilder> parts = new ArrayList<>(List.of(new StringBuilder()));
            for (String line : stdout.split("\n")) {
                if (line.strip().equals("--")) {
                    parts.add(new StringBuilder());
                } else {
                    parts.get(parts.size() - 1).append(line).append('\n');
                }
            }
            if (parts.size() != 3) {
                // Not this script's output (it always prints both separators): judge nothing alive from it.
                return new Ps(Map.of(), Map.of(), Map.of());
            }
            Map<Long, String> markers = new LinkedHashMap<>();
            String prefix = "/environ:" + MARKER_VAR + "=";
            for (String line : parts.get(1).toString().split("\n")) {
                String l = line.strip();
                int at = l.indexOf(prefix);
                if (at > 0 && l.substring(0, at).chars().allMatch(Character::isDigit)) {
                    markers.put(Long.parseLong(l.substring(0, at)), l.substring(at + prefix.length()));
                }
            }
            return new Ps(parsePs(parts.get(0).toString()), markers, parsePs(parts.get(2).toString()));
        }

        /**
         * Whether the shard's recorded pid is still the shard: alive (in the last {@code ps}), and titled with its port
         * ({@link SshCommands#isShard}) in either {@code ps}, or carrying its {@link #marker}: still its start chain. A
         * reused pid running something else has neither, and is never signalled.
         */
        boolean isShard(io.smartsim.launch.spi.LaunchedShard s) {
            if (s.pid().isEmpty() || !args.containsKey(s.pid().get())) {
                return false;
            }
            long pid = s.pid().get();
            return SshCommands.isShard(args.get(pid), s.port()) || marker(s.name(), s.port()).equals(markers.get(pid))
                    || before.containsKey(pid) && SshCommands.isShard(before.get(pid), s.port());
        }
    }

    /**
     * Signals shards' processes, each with its process group: once {@code setsid} has run the shard leads its own
     * group, which holds what a wrapper script started (a {@code sleep}, the server it is about to exec) and the
     * server's own children; before that only the pid is signalled. Exits 0 (a process already gone is fine).
     */
    static final String KILL_SHARDS_SCRIPT = String.join("\n",
            "sig=$1; shift",
            "for p do kill -s \"$sig\" -- \"-$p\" 2>/dev/null || kill -s \"$sig\" \"$p\" 2>/dev/null; done",
            "exit 0");

    static List<String> killShards(String signal, List<Long> pids) {
        List<String> argv = new ArrayList<>(List.of("sh", "-c", KILL_SHARDS_SCRIPT, "sh", signal));
        pids.forEach(p -> argv.add(Long.toString(p)));
        return argv;
    }

    static List<String> kill(String signal, List<Long> pids) {
        List<String> argv = new ArrayList<>(List.of("kill", "-s", signal));
        pids.forEach(p -> argv.add(Long.toString(p)));
        return argv;
    }

    static List<String> tail(String file, int lines) {
        return List.of("tail", "-n", Integer.toString(lines), "--", file);
    }

    /** The pids {@link #START_SCRIPT} printed, in order; a line that is not a pid is an error. */
    static List<Long> parsePids(String stdout) {
        List<Long> out = new ArrayList<>();
        for (String line : stdout.split("\n")) {
            if (!line.isBlank()) {
                out.add(Long.parseLong(line.strip()));
            }
        }
        return out;
    }

    /** pid -> command line, from {@code ps -o pid=,args=}. */
    static Map<Long, String> parsePs(String stdout) {
        Map<Long, String> out = new LinkedHashMap<>();
        for (String line : stdout.split("\n")) {
            String l = line.strip();
            if (l.isEmpty()) {
                continue;
            }
            int sp = l.indexOf(' ');
            String pid = sp < 0 ? l : l.substring(0, sp);
            if (pid.chars().allMatch(Character::isDigit)) {
                out.put(Long.parseLong(pid), sp < 0 ? "" : l.substring(sp + 1).strip());
            }
        }
        return out;
    }

    /**
     * Whether a live process is still the shard that was started: Redis and KeyDB title themselves
     * {@code redis-server ADDRESS:PORT [cluster]}; a reused pid running something else does not match, and is
     * never signalled.
     */
    static boolean isShard(String args, int port) {
        return args.matches("(?s).*:" + port + "(\\D.*)?");
    }

    /**
     * Starts a host's {@code --ai} model server detached ({@code nohup setsid}, its own session and process group)
     * and prints its pid. Arguments: its work directory (created owner-only), its console (the previous run's kept
     * as {@code NAME.1}), its socket, "1" when the socket's directory is a private one to create owner-only (taken
     * only when it is a real directory of this user), then its argv. Exits 4 naming a private directory it will not
     * take.
     */
    static final String MODEL_SERVER_START_SCRIPT = String.join("\n",
            "d=$1; c=$2; sock=$3; priv=$4; shift 4",
            "umask 077",
            "mkdir -p -- \"$d\" && chmod 700 -- \"$d\" || exit 3",
            "if [ \"$priv\" = 1 ]; then",
            "  sd=${sock%/*}",
            "  if [ ! -e \"$sd\" ] && [ ! -L \"$sd\" ]; then mkdir -m 700 -- \"$sd\" || exit 3; fi",
            "  if [ -L \"$sd\" ] || [ ! -d \"$sd\" ] || [ ! -O \"$sd\" ]; then",
            "    echo \"$sd is not a directory of $(id -un); remove it, or use a shorter --exp-dir\" >&2; exit 4",
            "  fi",
            "  chmod 700 -- \"$sd\" || exit 3",
            "fi",
            "if [ -e \"$c\" ]; then mv -f -- \"$c\" \"$c.1\" || exit 3; fi",
            "cd -- \"$d\" || exit 3",
            "if command -v setsid >/dev/null 2>&1; then detach=setsid; else detach=; fi",
            "nohup $detach \"$@\" >\"$c\" 2>&1 </dev/null &",
            "echo $!");

    static List<String> startModelServer(String workDir, String console, String socket, boolean privateDir,
                                         List<String> argv) {
        List<String> out = new ArrayList<>(List.of("sh", "-c", MODEL_SERVER_START_SCRIPT, "sh", workDir, console,
                socket, privateDir ? "1" : "0"));
        out.addAll(argv);
        return out;
    }

    /**
     * Waits on the host for a model server to be ready: polls its console for the ready line every 50 ms, up to a
     * number of polls, and prints {@code ready}, {@code gone} (the pid exited first) or {@code late}. Arguments:
     * console, pid, polls, the ready line's start. One SSH command for the whole wait.
     */
    static final String MODEL_SERVER_AWAIT_SCRIPT = String.join("\n",
            "c=$1; p=$2; n=$3; r=$4; i=0",
            "while :; do",
            "  if grep -q -F -- \"$r\" \"$c\" 2>/dev/null; then echo ready; exit 0; fi",
            "  if ! kill -0 \"$p\" 2>/dev/null; then",
            "    if grep -q -F -- \"$r\" \"$c\" 2>/dev/null; then echo ready; else echo gone; fi; exit 0",
            "  fi",
            "  i=$((i+1)); if [ \"$i\" -ge \"$n\" ]; then echo late; exit 0; fi",
            "  sleep 0.05",
            "done");

    static List<String> awaitModelServer(String console, long pid, int polls, String ready) {
        return List.of("sh", "-c", MODEL_SERVER_AWAIT_SCRIPT, "sh", console, Long.toString(pid),
                Integer.toString(Math.max(1, polls)), ready);
    }

    /** Every process of the host: pid and command line, to find a model server by its socket. */
    static List<String> psAll() {
        return List.of("ps", "-eo", "pid=,args=");
    }

    /**
     * Whether a live process is the model server of {@code socket}: its command line runs {@code main} with
     * {@code --socket socket} (so does the start chain, {@code nohup setsid java ...}, before it execs java).
     */
    static boolean isModelServer(String args, String main, String socket) {
        String s = " --socket " + socket;
        int at = args.indexOf(s);
        return args.contains(main) && at >= 0 && (at + s.length() == args.length()
                || Character.isWhitespace(args.charAt(at + s.length())));
    }

    /** Removes a model server's socket, and its directory when that is a private one ({@code /tmp/smartsim-ai-*}). */
    static final String REMOVE_SOCKET_SCRIPT = String.join("\n",
            "rm -f -- \"$1\"",
            "d=${1%/*}",
            "case \"$d\" in /tmp/smartsim-ai-*) rmdir -- \"$d\" 2>/dev/null;; esac",
            "exit 0");

    static List<String> removeSocket(String socket) {
        return List.of("sh", "-c", REMOVE_SOCKET_SCRIPT, "sh", socket);
    }

    /**
     * Lists which of the given paths do not exist on the host (one a line; a first one, the java, must also be
     * executable). Exits 0.
     */
    static final String MISSING_SCRIPT = String.join("\n",
            "j=$1; [ -x \"$j\" ] || echo \"$j\"; shift",
            "for f do [ -e \"$f\" ] || echo \"$f\"; done",
            "exit 0");

    static List<String> missing(List<String> paths) {
        List<String> out = new ArrayList<>(List.of("sh", "-c", MISSING_SCRIPT, "sh"));
        out.addAll(paths);
        return out;
    }

    /** The model server's lease guard ({@code --lease}): as {@link #guards} with the shard "null" (it names none). */
    static List<String> modelServerGuard(String script, long pid, String output) {
        return List.of("sh", "-c", GUARD_SCRIPT, "sh", script, Long.toString(pid), "null", output);
    }
}
