package io.smartsim.launch.ai.torch;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A named pipe that holds a TorchScript run for as long as a test wants, whatever the machine's speed: the run opens
 * the pipe for reading ({@code torch.from_file(path, False, 1)}), and that open waits until a writer opens it too.
 * {@link #release} opens it read-write (on Linux that never waits) and keeps it open, so the run, now or later, gets
 * past the open and fails there (a pipe cannot be mapped), its result dropped. libtorch cannot stop a run, so this
 * is how a test makes a run outlast its TIMEOUT for certain and still ends it. A release after {@code safety} in any
 * case keeps a broken product from leaving a run waiting for ever.
 */
public final class PipeGate implements AutoCloseable {
    private final Path path;
    private final Thread safetyRelease;
    private RandomAccessFile held;

    private PipeGate(Path path, Duration safety) {
        this.path = path;
        this.safetyRelease = new Thread(() -> {
            try {
                Thread.sleep(safety.toMillis());
                release();
            } catch (InterruptedException e) {
                // closed first
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }, "pipe-gate-safety-release");
        safetyRelease.setDaemon(true);
        safetyRelease.start();
    }

    /** Makes the pipe at {@code path} (mkfifo) and returns its gate, shut. */
    public static PipeGate create(Path path, Duration safety) throws IOException, InterruptedException {
        Files.deleteIfExists(path);
        Process p = new ProcessBuilder("mkfifo", path.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("mkfifo " + path + " failed: " + log);
        }
        return new PipeGate(path, safety);
    }

    public Path path() {
        return path;
    }

    /** Lets every run waiting at the gate, and every later one, through. */
    public synchronized void release() throws IOException {
        if (held == null) {
            held = new RandomAccessFile(path.toFile(), "rw");
        }
    }

    /** Releases a run still waiting (a test that failed before its release), then removes the pipe. */
    @Override
    public synchronized void close() throws IOException {
        safetyRelease.interrupt();
        release();
        held.close();
        Files.deleteIfExists(path); // a run that comes later fails at once: no such file
    }
}
