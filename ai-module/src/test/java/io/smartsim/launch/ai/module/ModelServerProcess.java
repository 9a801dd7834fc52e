package io.smartsim.launch.ai.module;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The real model server (ai-server's {@code ModelServerMain}) as its own JVM, started with this test's class path (which
 * holds ai-server and ai-onnx), working in its own directory under the test's {@code @TempDir} so that
 * {@code Processes.leftBehind} finds it. Ready when it printed its {@code ready} line.
 */
final class ModelServerProcess implements AutoCloseable {
    static final Duration START = Duration.ofSeconds(60);

    private final Process process;
    private final Path socket;
    private final Path log;

    private ModelServerProcess(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    /** Started with {@code --backends backends}, then {@code options} (e.g. "--intra-op-threads", "4"). */
    static ModelServerProcess start(Path dir, Path socket, String backends, String... options) throws Exception {
        Files.createDirectories(dir);
        Path log = dir.resolve("model-server.log");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        // Absolute entries: the model server works in its own directory.
        String cp = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(e -> Path.of(e).toAbsolutePath().toString())
                .collect(Collectors.joining(File.pathSeparator));
        // Its java.io.tmpdir is its own directory: ONNX Runtime makes an onnxruntime-java* directory there at every
        // start and never removes it (one per model server piled up in /tmp).
        List<String> argv = new java.util.ArrayList<>(List.of(java.toString(), "-Djava.io.tmpdir=" + dir, "-cp", cp,
                "io.smartsim.launch.ai.modelserver.ModelServerMain", "--socket", socket.toString(), "--backends",
                backends));
        argv.addAll(List.of(options));
        Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        ModelServerProcess s = new ModelServerProcess(p, socket, log);
        Instant deadline = Instant.now().plus(START);
        while (Instant.now().isBefore(deadline)) {
            String out = Files.readString(log);
            if (out.contains("ready socket=" + socket)) {
                return s;
            }
            if (!p.isAlive()) {
                throw new IllegalStateException("the model server exited with " + p.exitValue() + ": " + out);
            }
            Thread.sleep(20);
        }
        s.kill();
        throw new IllegalStateException("the model server did not say ready within " + START + ": "
                + Files.readString(log));
    }

    Path socket() {
        return socket;
    }

    long pid() {
        return process.pid();
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    /** SIGKILL, as a crash: the socket file stays behind. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            kill();
        }
    }
}
