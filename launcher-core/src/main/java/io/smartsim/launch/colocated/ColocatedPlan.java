package io.smartsim.launch.colocated;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.smartsim.launch.spec.ColocatedDb;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The colocated database of one model (or ensemble member), planned: made by {@link ColocatedPlanner}, pure, shown by
 * a dry run. Per node, the wrapper writes {@code colocated-<node>.log} (the server's log), {@code .pid} (while it
 * runs) and {@code .error} (when it failed to start) into {@code dir}.
 *
 * @param model       the model's (or ensemble member's) name
 * @param db          the database as this model gets it (an ensemble member's own port or socket)
 * @param dir         the model's directory: config, wrapper, logs, locks
 * @param config      where the server config goes
 * @param configText  the server config, rendered
 * @param wrapper     where the wrapper script goes
 * @param wrapperText the wrapper script, rendered
 *
 * <p>The manifest keeps only the model, the database and the directory: the texts are rendered again when it is read
 * (they are pure functions of those three), so a large ensemble's manifest does not carry a wrapper per member.
 */
public record ColocatedPlan(String model, ColocatedDb db, Path dir, Path config, @JsonIgnore String configText,
                            Path wrapper, @JsonIgnore String wrapperText) {
    public static final String CONFIG = "colocated.conf";
    public static final String WRAPPER = "colocated.sh";

    /** The plan as a manifest records it: rendered again, without the plan-time look at the file system. */
    @JsonCreator
    static ColocatedPlan fromManifest(@JsonProperty("model") String model, @JsonProperty("db") ColocatedDb db,
                                      @JsonProperty("dir") Path dir) {
        return ColocatedPlanner.render(model, dir, db);
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
