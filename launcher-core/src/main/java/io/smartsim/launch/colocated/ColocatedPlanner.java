package io.smartsim.launch.colocated;

import io.smartsim.launch.plan.AiInstall;
import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.planned.ModelServerPlan;
import io.smartsim.launch.spec.ColocatedModel;
import io.smartsim.launch.spec.ColocatedScript;
import io.smartsim.launch.spec.Backend;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.ColocatedDb;
import io.smartsim.launch.script.Shell;
import io.smartsim.launch.script.Template;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A model's colocated database -> its plan, and the plan's server config and per-rank wrapper, rendered. Pure but for
 * one look at the file system: the socket's directory must exist (checked here, at plan time, not on the node).
 */
public final class ColocatedPlanner {
    /** How long the first rank on a node waits for its database to answer (INFO naming its pid). */
    public static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private ColocatedPlanner() {
    }

    /**
     * The plan of {@code db} for model {@code model} whose directory is {@code dir}; its models' and scripts' files
     * must be absolute (resolved by the model's planner) and readable, and, when it has any, this machine's
     * model-serving runtime ({@link AiInstall#locate()}) must have the module and their backends.
     */
    public static ColocatedPlan plan(String model, Path dir, ColocatedDb db) {
        List<Path> files = new ArrayList<>();
        db.models().forEach(m -> files.add(m.file()));
        db.scripts().forEach(sc -> files.add(sc.file()));
        for (int i = 0; i < files.size(); i++) {
            Path f = files.get(i);
            String field = i < db.models().size() ? "colocatedDb.models (" + db.models().get(i).name() + ").file"
                    : "colocatedDb.scripts (" + db.scripts().get(i - db.models().size()).name() + ").file";
            if (!Files.isRegularFile(f) || !Files.isReadable(f)) {
                throw new InvalidSpecException(field, f + " is not a readable file; give the path of the "
                        + (i < db.models().size() ? "model" : "script") + " file (relative paths are taken from the "
                        + "spec's base directory)");
            }
        }
        Optional<ColocatedPlan.Ai> ai = Optional.empty();
        if (!files.isEmpty()) {
            AiInstall install = AiInstall.locate();
            install.require(db.aiBackends());
            ai = Optional.of(new ColocatedPlan.Ai(install.java(), install.classPath(), install.requireModule(),
                    db.aiBackends()));
        }
        return plan(model, dir, db, ai);
    }

    /** As above with the model-serving runtime given (the module file and the backends already checked). */
    static ColocatedPlan plan(String model, Path dir, ColocatedDb db, Optional<ColocatedPlan.Ai> ai) {
        db.socket().ifPresent(s -> {
            Path parent = s.getParent();
            if (parent == null || !Files.isDirectory(parent)) {
                throw new InvalidSpecException("colocatedDb.unixSocket", "the directory of " + s + " (" + parent
                        + ") does not exist; create it first or choose a socket path in an existing directory, for "
                        + "example /tmp/" + s.getFileName());
            }
        });
        return render(model, dir, db, ai);
    }

    /** The plan without the look at the file system. */
    static ColocatedPlan render(String model, Path dir, ColocatedDb db, Optional<ColocatedPlan.Ai> ai) {
        return ColocatedPlan.of(model, db, dir, ai);
    }

    /** The server config of {@code plan}, rendered ({@link #config(String, Path, ColocatedDb)}). */
    public static String configText(ColocatedPlan plan) {
        return config(plan.model(), plan.dir(), plan.db());
    }

    /** The per-rank wrapper script of {@code plan}, rendered. */
    public static String wrapperText(ColocatedPlan plan) {
        return wrapper(plan.model(), plan.dir(), plan.config(), plan.db(), plan.ai());
    }

    /**
     * The files a launcher writes for {@code plan} before its ranks start, by path: the wrapper and the server config
     * (what {@link io.smartsim.launch.spi.RenderedLaunch#scripts()} shows in a dry run).
     */
    public static java.util.Map<String, String> files(ColocatedPlan plan) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        out.put(plan.wrapper().toString(), wrapperText(plan));
        out.put(plan.config().toString(), configText(plan));
        return out;
    }

    /**
     * The standalone server's config: no cluster, no persistence; loopback or the socket only with protected mode on,
     * or, when interfaces are named, protected mode off: Redis 7 refuses every client not on loopback while the default
     * user has no password, whatever is bound, so the named interfaces would answer only {@code DENIED}.
     */
    public static String config(String model, Path dir, ColocatedDb db) {
        StringBuilder c = new StringBuilder();
        c.append("# Generated by smartsim-launch: the colocated database of model ").append(model)
                .append(", one per node (the wrapper adds logfile and bind). Edits are overwritten at each start.\n");
        if (db.socket().isPresent()) {
            c.append("port 0\n");
            c.append("unixsocket ").append(quote(db.socket().get().toString())).append('\n');
            c.append("unixsocketperm ").append(String.format("%o", db.socketPermissions())).append('\n');
        } else {
            c.append("port ").append(db.port().orElseThrow()).append('\n');
        }
        c.append(db.interfaces().isEmpty() ? "protected-mode yes\n"
                : "# colocatedDb.interfaces: clients come through them, not loopback, and the database has no password\n"
                + "protected-mode no\n");
        c.append("daemonize no\n");
        c.append("dir ").append(quote(dir.toString())).append('\n');
        c.append("loglevel notice\n");
        // Data lives as long as the application on the node: nothing is written to disk.
        c.append("save \"\"\n");
        c.append("appendonly no\n");
        if (db.backend() == Backend.KEYDB) {
            c.append("server-threads ").append(db.cpus()).append('\n');
            c.append("enable-motd no\n");
        } else if (db.cpus() > 1) {
            c.append("io-threads ").append(db.cpus()).append('\n');
        }
        for (String line : db.extraConfig()) {
            c.append(line).append('\n');
        }
        return c.toString();
    }

    static String wrapper(String model, Path dir, Path config, ColocatedDb db, Optional<ColocatedPlan.Ai> ai) {
        StringBuilder loads = new StringBuilder();
        for (ColocatedModel m : db.models()) {
            loads.append("    load ").append(Shell.quote("model " + m.name())).append(' ')
                    .append(Shell.quote(m.file().toString())).append(' ')
                    .append(m.command().stream().map(Shell::quote).collect(Collectors.joining(" "))).append('\n');
        }
        for (ColocatedScript sc : db.scripts()) {
            loads.append("    load ").append(Shell.quote("script " + sc.name())).append(' ')
                    .append(Shell.quote(sc.file().toString())).append(' ')
                    .append(sc.command().stream().map(Shell::quote).collect(Collectors.joining(" "))).append('\n');
        }
        if (loads.isEmpty()) {
            loads.append("    :\n");
        }
        Map<String, String> values = new java.util.HashMap<>(Map.of(
                "java", ai.map(ColocatedPlan.Ai::java).orElse(""),
                "classpath", ai.map(ColocatedPlan.Ai::classPath).orElse(""),
                "module", ai.map(a -> a.module().toString()).orElse(""),
                "backends", ai.map(a -> String.join(",", a.backends())).orElse(""),
                "main", ModelServerPlan.MAIN,
                "reportEvery", Long.toString(ColocatedStatus.REPORT_EVERY.toSeconds()),
                "loads", loads.toString().stripTrailing()));
        values.putAll(Map.of(
                "model", model,
                "dir", dir.toString(),
                "config", config.toString(),
                "server", db.backend().binaryName(),
                "pin", db.cpuList(),
                "socket", db.socket().map(Path::toString).orElse(""),
                "port", db.port().map(String::valueOf).orElse(""),
                "interfaces", db.interfaces().stream().map(Shell::quote).collect(Collectors.joining(" ")),
                "timeout", Long.toString(START_TIMEOUT.toSeconds())));
        return Template.resource(ColocatedPlanner.class, ColocatedPlan.WRAPPER).render(values);
    }

    private static String quote(String value) {
        return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
