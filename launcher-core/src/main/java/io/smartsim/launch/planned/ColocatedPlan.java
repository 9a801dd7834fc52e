package io.smartsim.launch.planned;

import io.smartsim.launch.spec.ColocatedDb;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
 */
public record ColocatedPlan(String model, ColocatedDb db, Path dir, Path config, Path wrapper) {
    public static final String CONFIG = "colocated.conf";
    public static final String WRAPPER = "colocated.sh";

    /** The plan of {@code db} for {@code model} in {@code dir}: its config and wrapper at their names there. */
    public static ColocatedPlan of(String model, ColocatedDb db, Path dir) {
        return new ColocatedPlan(model, db, dir, dir.resolve(CONFIG), dir.resolve(WRAPPER));
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

    /** Why the database did not start on {@code node}, with the tail of its log. */
    public Path errorFile(String node) {
        return dir.resolve("colocated-" + node + ".error");
    }
}
