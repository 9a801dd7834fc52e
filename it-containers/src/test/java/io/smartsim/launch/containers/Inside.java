package io.smartsim.launch.containers;

import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The test's own view inside a host (docker exec, never the launcher's SSH), and the leftover check that every test
 * of this module runs inside every host: {@link Host#leftovers}.
 */
final class Inside {
    private Inside() {
    }

    /**
     * One host: its name, its container, and the processes it runs of its own besides pid 1, which are not leftovers:
     * each given by the start of its command line as {@code ps} shows it (its daemons, such as munged and slurmd).
     */
    record Host(String name, GenericContainer<?> container, List<String> daemons) {
        String exec(String... argv) {
            return Inside.exec(container, argv);
        }

        /**
         * Processes other than pid 1, the {@link #daemons} and this check's own {@code ps}: "pid args" lines. An sshd
         * per-connection process counts ("sshd: root@notty"; the listener is pid 1 or a daemon): a session left open
         * is a leftover too.
         */
        List<String> processes() {
            return exec("ps", "-eo", "pid=,args=").lines().map(String::strip).filter(l -> !l.isEmpty())
                    .map(l -> l.split("\\s+", 2))
                    .map(f -> f.length > 1 ? f : new String[] {f[0], ""})
                    .filter(f -> !f[0].equals("1") && daemons.stream().noneMatch(f[1]::startsWith)
                            && !f[1].startsWith("ps -eo pid=,args="))
                    .map(f -> f[0] + " " + f[1])
                    .toList();
        }

        /** Everything under {@code /tmp}, sorted. */
        List<String> tmpFiles() {
            return exec("find", "/tmp", "-mindepth", "1").lines().filter(l -> !l.isBlank()).sorted().toList();
        }
    }

    static String exec(GenericContainer<?> c, String... argv) {
        ExecResult r = execResult(c, argv);
        if (r.getExitCode() != 0) {
            throw new AssertionError(String.join(" ", argv) + " on " + c.getContainerName() + " exited "
                    + r.getExitCode() + ": " + r.getStderr() + r.getStdout());
        }
        return r.getStdout();
    }

    static ExecResult execResult(GenericContainer<?> c, String... argv) {
        try {
            return c.execInContainer(argv);
        } catch (IOException e) {
            throw new AssertionError("docker exec " + String.join(" ", argv) + " on " + c.getContainerName() + ": "
                    + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted: docker exec " + String.join(" ", argv), e);
        }
    }

    /**
     * What is left on the hosts once the experiment {@code expDir} is done, polled for {@code grace} (a SIGTERMed
     * server, or a cancelled Slurm step, ends a moment later): any process but each host's own daemons (no
     * redis-server, no lease guard or shard wrapper, no shell, no SSH session, no slurmstepd), anything in
     * {@code /tmp} outside {@code allowedTmp} (the experiment directory, or the shared file system it lives on; a
     * JVM's empty hsperfdata directory aside), and any socket, pid or lock file in the experiment directory (but the
     * launcher's advisory-lock files) (the servers' logs, configs and node maps are the
     * launchers' documented record on the hosts, and stay). Empty when nothing is left, otherwise one line per
     * finding, and what was found is killed. Either way the experiment directory is then removed from every host,
     * so the next test of the class starts from hosts with an empty {@code /tmp}.
     */
    static List<String> leftovers(List<Host> hosts, Path expDir, Path allowedTmp, Duration grace)
            throws InterruptedException {
        long until = System.nanoTime() + grace.toNanos();
        List<String> found = find(hosts, expDir, allowedTmp);
        while (!found.isEmpty() && System.nanoTime() < until) {
            Thread.sleep(200);
            found = find(hosts, expDir, allowedTmp);
        }
        for (Host h : hosts) {
            execResult(h.container(), "rm", "-rf", "--", expDir.toString());
            if (!found.isEmpty()) {
                for (String p : h.processes()) {
                    execResult(h.container(), "kill", "-9", p.substring(0, p.indexOf(' ')));
                }
            }
        }
        return found;
    }

    private static List<String> find(List<Host> hosts, Path expDir, Path allowedTmp) {
        List<String> out = new ArrayList<>();
        String allowed = allowedTmp.toString();
        for (Host h : hosts) {
            h.processes().forEach(p -> out.add(h.name() + ": process " + p));
            for (String f : h.tmpFiles()) {
                // A JVM's performance-data directory (the CLI run on a host): its own file in it goes at exit, so
                // only a file inside one (a JVM still running, or killed) is a leftover.
                if (f.matches("/tmp/hsperfdata_[^/]+")) {
                    continue;
                }
                if (!(f.equals(allowed) || f.startsWith(allowed + "/") || allowed.startsWith(f + "/"))) {
                    out.add(h.name() + ": " + f + " in /tmp, outside " + allowed);
                }
            }
            // Not the manifest's and the events log's lock files (.manifest.lock, events.jsonl.lock): kept on purpose
            // for advisory locks (flock), which end with their process, not with the file.
            String live = execResult(h.container(), "sh", "-c", "[ -d \"$1\" ] || exit 0; find \"$1\" \\( -type s "
                    + "-o -name '*.pid' -o \\( -name '*.lock' ! -name .manifest.lock ! -name events.jsonl.lock \\) "
                    + "-o -name '*.sock' \\) -print", "sh", expDir.toString()).getStdout();
            live.lines().filter(l -> !l.isBlank()).forEach(l -> out.add(h.name() + ": " + l + " (socket/pid/lock)"));
        }
        return out;
    }
}
