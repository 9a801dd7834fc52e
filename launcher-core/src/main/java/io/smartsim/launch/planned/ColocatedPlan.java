package io.smartsim.launch.planned;

import io.smartsim.launch.spec.ColocatedDb;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The colocated database of one model (or ensemble member), planned by the internal
 * {@code colocated.ColocatedPlanner}, which also renders its config and wrapper (pure functions of the model, the
 * database and the directory, so neither the plan nor the manifest carries their text); shown by a dry run. Per node, the wrapper writes
 * {@code colocated-<node>.log} (the server's log), {@code .pid} (while it runs) and {@code .error} (when it failed to
 * start) into {@code dir}.
 *
 * @param model   the model's (or ensemble member's) name
 * @param db      the database as this model gets it (an ensemble member's own port or socket)
 * @param dir     the model's directory: config, wrapper, logs, locks
 * @param config  where the server config goes ({@value #CONFIG} in {@code dir})
 * @param wrapper where the wrapper script goes ({@value #WRAPPER} in {@code dir})
 * @param ai      with models or scripts to store: the model server each node runs beside its database and the module
 *                the database loads; empty without
 */
public record ColocatedPlan(String model, ColocatedDb db, Path dir, Path config, Path wrapper, Optional<Ai> ai) {
    public static final String CONFIG = "colocated.conf";
    public static final String WRAPPER = "colocated.sh";

    public ColocatedPlan {
        ai = ai == null ? Optional.empty() : ai;
    }

    /**
     * Model serving for a colocated database's models and scripts, as {@code --ai} has it for an orchestrator: the
     * database loads the smartsim-ai {@code module}, whose AI commands run on a model server (a JVM: {@code java -cp
     * classPath}, {@link ModelServerPlan#MAIN}) the node's first rank starts beside it with {@code backends}.
     */
    public record Ai(String java, String classPath, Path module, List<String> backends) {
        public Ai {
            backends = List.copyOf(backends);
        }

        /** What must exist on a node, at these paths: the java, the class path's entries and the module. */
        public List<String> needed() {
            List<String> out = new ArrayList<>(List.of(java));
            out.addAll(ModelServerPlan.classPathEntries(classPath));
            out.add(module.toString());
            return out;
        }
    }

    /** The plan of {@code db} for {@code model} in {@code dir}: its config and wrapper at their names there. */
    public static ColocatedPlan of(String model, ColocatedDb db, Path dir) {
        return of(model, db, dir, Optional.empty());
    }

    /** As above, with model serving for its models and scripts. */
    public static ColocatedPlan of(String model, ColocatedDb db, Path dir, Optional<Ai> ai) {
        return new ColocatedPlan(model, db, dir, dir.resolve(CONFIG), dir.resolve(WRAPPER), ai);
    }

    /** The model server's pid on {@code node}, present while it runs. */
    public Path modelServerPidFile(String node) {
        return dir.resolve("colocated-" + node + ".ai.pid");
    }

    /** The model server's private temporary directory on {@code node} (ONNX Runtime unpacks its libraries there). */
    public Path modelServerTmp(String node) {
        return dir.resolve(".colocated-" + node + ".ai.tmp");
    }

    /**
     * The model server's socket on {@code node}, as the wrapper picks it: in the model's directory, or, when that path
     * is over 107 bytes, {@code /tmp/smartsim-colocated-<md5 of dir, 12 hex digits>-<node>.sock}.
     */
    public Path modelServerSocket(String node) {
        Path in = dir.resolve("colocated-" + node + ".ai.sock");
        if (in.toString().length() <= 107) {
            return in;
        }
        try {
            byte[] d = java.security.MessageDigest.getInstance("MD5").digest(dir.toString()
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return Path.of("/tmp", "smartsim-colocated-" + java.util.HexFormat.of().formatHex(d).substring(0, 12)
                    + "-" + node + ".sock");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The model server's output on {@code node}: {@code ready socket=...}, or why it did not start. */
    public Path modelServerOutput(String node) {
        return dir.resolve("colocated-" + node + ".ai.out");
    }

    /** The command each rank runs: the wrapper, then the application's argv. */
    public List<String> wrap(List<String> argv) {
        List<String> out = new ArrayList<>();
        out.add("bash");
        out.add(wrapper.toString());
        out.addAll(argv);
        return out;
    }

    /** The server's log on {@code node} (its short host name). */
    public Path log(String node) {
        return dir.resolve("colocated-" + node + ".log");
    }

    /** The server's pid on {@code node}, present while it runs. */
    public Path pidFile(String node) {
        return dir.resolve("colocated-" + node + ".pid");
    }

    /**
     * What {@code node} last reported of its database, every few seconds while it runs: {@code <epoch seconds> <pid>
     * <yes|no>} (whether it answered PING there), for status asked from another host.
     */
    public Path healthFile(String node) {
        return dir.resolve("colocated-" + node + ".health");
    }

    /** Why the database did not start on {@code node}, with the tail of its log. */
    public Path errorFile(String node) {
        return dir.resolve("colocated-" + node + ".error");
    }
}
