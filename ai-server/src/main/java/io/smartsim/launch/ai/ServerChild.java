package io.smartsim.launch.ai;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The redis-server behind a front, started by the front as its child so that a shard stays one process to its
 * launcher (local process, Slurm step, PBS task). Java cannot ask the kernel to kill a child when its parent dies
 * (PR_SET_PDEATHSIG), so the server runs under a few lines of POSIX sh, {@link #WATCH}: the shell starts the server
 * in the background and a watcher reads the front's pipe on its stdin. When the front ends in any way, SIGKILL
 * included, the kernel closes that pipe, the watcher reads end-of-file and sends the server SIGTERM (Redis's ordinary
 * shutdown: it saves first when persistence is configured). The shell exits with the server's status, which is how
 * the front learns its server has died. The server's argv is passed through untouched: argv[0] exactly as planned
 * (Debian's redis-server is a symlink to redis-check-rdb that picks its mode from argv[0]).
 */
public final class ServerChild implements AutoCloseable {
    /** $@ is the server's argv. Its stdin is /dev/null and it does not inherit the watched pipe (fd 3). */
    static final String WATCH = String.join("\n",
            "exec 3<&0",
            "\"$@\" </dev/null 3<&- &",
            "p=$!",
            "(while read -r _ <&3; do :; done; kill -TERM \"$p\" 2>/dev/null) </dev/null &",
            "w=$!",
            "exec 3<&-",
            "trap 'kill -TERM \"$p\" 2>/dev/null' TERM INT HUP",
            "wait \"$p\"; s=$?",
            "while kill -0 \"$p\" 2>/dev/null; do wait \"$p\"; s=$?; done",
            "kill \"$w\" 2>/dev/null",
            "exit $s");

    private final Process shell;
    private final OutputStream lifeline;
    private final List<String> argv;
    /** The server process itself, once seen: stopped by the front even if its shell was killed first. */
    private volatile ProcessHandle server;

    private ServerChild(Process shell, List<String> argv) {
        this.shell = shell;
        this.lifeline = shell.getOutputStream();
        this.argv = List.copyOf(argv);
    }

    /** The sh command line that runs {@code serverArgv} under the watch. */
    static List<String> command(List<String> serverArgv) {
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", WATCH, "smartsim-ai-watch"));
        cmd.addAll(serverArgv);
        return cmd;
    }

    /** Starts the server; its output goes where the front's goes (the shard's console log). */
    public static ServerChild start(List<String> serverArgv) throws IOException {
        if (serverArgv.isEmpty()) {
            throw new IllegalArgumentException("--server-argv needs the server's command line");
        }
        Process p = new ProcessBuilder(command(serverArgv)).redirectOutput(ProcessBuilder.Redirect.INHERIT)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        return new ServerChild(p, serverArgv);
    }

    /**
     * Waits until the server answers a PING on {@code host:port} (any reply: NOAUTH and LOADING prove it accepts
     * connections), or fails naming how it ended.
     */
    public void awaitReady(String host, int port, Duration timeout) throws IOException, InterruptedException {
        long until = System.nanoTime() + timeout.toNanos();
        long pause = 2;
        while (true) {
            Optional<Integer> exit = exitCode();
            if (exit.isPresent()) {
                throw new IOException("the server `" + String.join(" ", argv) + "` exited with code " + exit.get()
                        + " before it accepted connections on " + host + ":" + port + "; see its log");
            }
            if (answers(host, port)) {
                server = serverProcess().orElse(null);
                return;
            }
            if (System.nanoTime() >= until) {
                throw new IOException("the server `" + String.join(" ", argv) + "` did not answer on " + host + ":"
                        + port + " within " + timeout.toSeconds() + " s");
            }
            Thread.sleep(pause);
            pause = Math.min(50, pause * 2);
        }
    }

    private static boolean answers(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 500);
            s.setSoTimeout(2000);
            s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            int first = in.read();
            return first == '+' || first == '-';
        } catch (IOException e) {
            return false;
        }
    }

    /** The shell's child that is not a shell: the server (the other child is the watcher, a forked shell). */
    private Optional<ProcessHandle> serverProcess() {
        Optional<String> sh = shell.info().command();
        return shell.children().filter(h -> !h.info().command().equals(sh)).findFirst();
    }

    /**
     * After the shell has ended: if the server outlived it (the shell was killed on its own), stop the server too and
     * wait for it, so a front that exits never leaves its server behind.
     */
    private void reapServer(Duration grace) throws InterruptedException {
        ProcessHandle s = server;
        if (s == null || !running(s)) {
            return;
        }
        s.destroy();
        long deadline = System.nanoTime() + grace.toNanos();
        while (running(s)) {
            if (System.nanoTime() - deadline > 0) {
                s.destroyForcibly();
                return;
            }
            Thread.sleep(10);
        }
    }

    /**
     * Alive and not a zombie. The server, orphaned once its shell was killed, is reaped by whatever adopts it; where
     * that is a PID 1 that reaps no one (a container whose PID 1 is the launcher or a test) it stays a zombie once it
     * has exited, which {@link ProcessHandle#isAlive} and {@link ProcessHandle#onExit} take for a live process.
     */
    static boolean running(ProcessHandle h) {
        if (!h.isAlive()) {
            return false;
        }
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + h.pid() + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z'; // pid (comm) state ...
        } catch (IOException e) {
            return false; // gone meanwhile
        }
    }

    /** The exit code once the server (and its watch) has ended. */
    public Optional<Integer> exitCode() {
        return shell.isAlive() ? Optional.empty() : Optional.of(shell.exitValue());
    }

    /** Blocks until the server has ended; its exit code. */
    public int waitFor() throws InterruptedException {
        int code = shell.waitFor();
        reapServer(Duration.ofSeconds(30));
        return code;
    }

    public long pid() {
        return shell.pid();
    }

    /** Stops the server (SIGTERM through the watch) and waits up to {@code grace} for it; then kills it. */
    public void stop(Duration grace) throws InterruptedException {
        try {
            lifeline.close();
        } catch (IOException e) {
            // already closed: the watch has seen end-of-file
        }
        if (!shell.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            shell.descendants().forEach(ProcessHandle::destroyForcibly);
            shell.destroyForcibly();
            shell.waitFor(5, TimeUnit.SECONDS);
        }
        reapServer(grace);
    }

    @Override
    public void close() throws InterruptedException {
        stop(Duration.ofSeconds(30));
    }
}
