package io.smartsim.launch.local;

import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteException;
import org.apache.commons.exec.ExecuteResultHandler;
import org.apache.commons.exec.PumpStreamHandler;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One shard's server process, started asynchronously with commons-exec. Its stdout and stderr go to a file
 * (not a pipe), its stdin is /dev/null, and the waiting thread is a daemon: the process outlives this JVM,
 * as a database started by {@code db start} must.
 */
final class ShardProcess {
    private final CompletableFuture<Process> started = new CompletableFuture<>();
    private final CompletableFuture<String> ended = new CompletableFuture<>();

    private ShardProcess() {
    }

    static ShardProcess spawn(List<String> argv, Path workDir, Path console) {
        ShardProcess p = new ShardProcess();
        CommandLine cmd = new CommandLine(argv.get(0));
        argv.subList(1, argv.size()).forEach(a -> cmd.addArgument(a, false));
        Executor executor = new Executor(p, console);
        executor.setWorkingDirectory(workDir.toFile());
        executor.setStreamHandler(new PumpStreamHandler(OutputStream.nullOutputStream(), OutputStream.nullOutputStream(),
                null));
        try {
            executor.execute(cmd, Map.of(), new ExecuteResultHandler() {
                @Override
                public void onProcessComplete(int exitValue) {
                    p.ended.complete("exited with code " + exitValue);
                }

                @Override
                public void onProcessFailed(ExecuteException e) {
                    p.started.completeExceptionally(e);
                    p.ended.complete(e.getExitValue() == ExecuteException.class.hashCode() ? e.getMessage()
                            : "exited with code " + e.getExitValue());
                }
            });
        } catch (IOException e) {
            p.started.completeExceptionally(e);
            p.ended.complete("could not start: " + e.getMessage());
        }
        return p;
    }

    /** The process once it exists; empty if it could not be started (the reason is in {@link #exit()}). */
    Optional<Process> process(Duration wait) throws InterruptedException {
        try {
            return Optional.of(started.get(Math.max(1, wait.toMillis()), TimeUnit.MILLISECONDS));
        } catch (ExecutionException | TimeoutException e) {
            return Optional.empty();
        }
    }

    /** How the process ended, once it has. */
    Optional<String> exit() {
        return Optional.ofNullable(ended.getNow(null));
    }

    /** Sends SIGTERM, waits up to {@code grace}, then SIGKILL; waits for the exit to be seen. */
    void terminate(Duration grace) throws InterruptedException {
        Process proc = started.getNow(null);
        if (proc == null) {
            return;
        }
        proc.destroy();
        if (!proc.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            proc.destroyForcibly();
            proc.waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** Starts the process with redirected streams, and hands it to the waiter thread. */
    private static final class Executor extends DefaultExecutor {
        private final ShardProcess owner;
        private final File console;

        Executor(ShardProcess owner, Path console) {
            this.owner = owner;
            this.console = console.toFile();
        }

        @Override
        protected Process launch(CommandLine command, Map<String, String> env, File dir) throws IOException {
            ProcessBuilder pb = new ProcessBuilder(command.toStrings()).directory(dir).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(console))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            try {
                Process proc = pb.start();
                owner.started.complete(proc);
                return proc;
            } catch (IOException e) {
                owner.started.completeExceptionally(e);
                owner.ended.complete("could not start: " + e.getMessage());
                throw e;
            }
        }

        @Override
        protected Thread createThread(Runnable runnable, String name) {
            Thread t = super.createThread(runnable, name);
            t.setDaemon(true);
            return t;
        }
    }
}
