package io.smartsim.launch.examples;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A whole experiment in one run: start a 3-shard orchestrator on this machine, run {@link Model} as its own
 * process with {@code SSDB} and {@code SR_DB_TYPE} in its environment, stop the orchestrator.
 *
 * <pre>
 * java -cp ... io.smartsim.launch.examples.OneShot [--port 6780] [exp-dir]
 * </pre>
 *
 * Exit code: the model's; 3 when the orchestrator could not be started or stopped; 2 for bad arguments.
 */
public final class OneShot {
    public static final int LAUNCH_FAILED = 3;

    private OneShot() {
    }

    public static void main(String[] args) throws InterruptedException {
        Path dir = null;
        int port = OrchestratorSpec.DEFAULT_PORT;
        try {
            for (int i = 0; i < args.length; i++) {
                if (args[i].equals("--port")) {
                    String value = i + 1 < args.length ? args[++i] : "";
                    if (!value.matches("[0-9]{1,5}")) {
                        throw new IllegalArgumentException("--port '" + value + "' is not a port number");
                    }
                    port = Integer.parseInt(value);
                } else if (!args[i].startsWith("-") && dir == null) {
                    dir = Path.of(args[i]);
                } else {
                    throw new IllegalArgumentException("unexpected argument '" + args[i] + "'");
                }
            }
        } catch (IllegalArgumentException e) {
            System.err.println("one-shot: " + e.getMessage() + "\nusage: OneShot [--port N] [exp-dir]");
            System.exit(Model.USAGE);
        }
        System.exit(run(dir == null ? Path.of("exp") : dir, port));
    }

    static int run(Path dir, int port) throws InterruptedException {
        int exit;
        // The experiment stops its orchestrator on close, and also when this JVM is ended (Ctrl-C, SIGTERM).
        try (Experiment exp = Experiment.create("one-shot", dir, System.err::println)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).port(port).build());
            exp.start(db);
            System.err.println("running the model with SSDB=" + db.ssdb() + " SR_DB_TYPE=" + db.dbType());
            exit = runModel(db, List.of());
            System.err.println("model exited with " + exit);
        } catch (LaunchException e) {
            System.err.println("one-shot: " + e.getMessage());
            return LAUNCH_FAILED;
        }
        return exit;
    }

    /** Runs {@link Model} against {@code db}, its output going where ours goes; returns its exit code. */
    static int runModel(Orchestrator db, List<String> modelArgs) throws InterruptedException {
        ProcessBuilder pb = modelProcess(db, modelArgs).inheritIO();
        Process model;
        try {
            model = pb.start();
        } catch (IOException e) {
            throw new LaunchException("could not start the model " + pb.command() + ": " + e.getMessage(), e);
        }
        try {
            return model.waitFor();
        } finally {
            model.destroy(); // only does something when we were interrupted while waiting
        }
    }

    /**
     * The model as a new JVM on this JVM's class path, with the database's address in its environment: all a
     * model needs to know, whichever launcher started the database.
     */
    public static ProcessBuilder modelProcess(Orchestrator db, List<String> modelArgs) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Model.class.getName()));
        command.addAll(modelArgs);
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(db.dbEnv()); // SSDB, SR_DB_TYPE, SSDB_USER, SSDB_PASSWORD
        return pb;
    }
}
