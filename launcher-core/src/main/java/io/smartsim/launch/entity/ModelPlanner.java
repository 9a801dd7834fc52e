package io.smartsim.launch.entity;

import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.spec.ColocatedDb;
import io.smartsim.launch.spec.EnsembleSpec;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spec.Tags;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.colocated.ColocatedPlanner;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Spec + experiment directory -> plan: paths resolved, {@code ;param;} substituted, config files read and rendered.
 * Reads the config files it is given and writes nothing.
 */
public final class ModelPlanner {
    private ModelPlanner() {
    }

    /** The plan of a model directly under the experiment directory. */
    public static ModelPlan plan(Path expDir, ModelSpec spec) {
        return plan(expDir.resolve(spec.name()), Optional.empty(), 0, spec);
    }

    /** The plans of an ensemble's members, each in {@code <expDir>/<ensemble>/<member>}. */
    public static List<ModelPlan> plan(Path expDir, EnsembleSpec spec) {
        List<ModelPlan> out = new ArrayList<>();
        List<ModelSpec> members = spec.members();
        for (int i = 0; i < members.size(); i++) {
            ModelSpec m = members.get(i);
            out.add(plan(expDir.resolve(spec.name()).resolve(m.name()), Optional.of(spec.name()), i, m));
        }
        return out;
    }

    private static ModelPlan plan(Path dir, Optional<String> ensemble, int member, ModelSpec spec) {
        Map<String, String> params = spec.params();
        String where = ensemble.map(e -> e + " member " + spec.name()).orElse(spec.name());
        String exe = spec.exe().contains("/") ? spec.baseDir().resolve(spec.exe()).normalize().toString() : spec.exe();
        List<String> args = new ArrayList<>();
        for (String a : spec.args()) {
            args.add(Tags.substitute(a, params, "args (" + where + ")"));
        }
        Map<String, String> env = new LinkedHashMap<>();
        Optional<ColocatedPlan> colocated = spec.colocatedDb().map(db -> ColocatedPlanner.plan(spec.name(), dir,
                (ensemble.isPresent() ? memberDb(db, member) : db).resolvedAgainst(spec.baseDir())));
        colocated.ifPresent(c -> {
            // SmartRedis's names; the model's own env may still override them
            env.put("SSDB", c.db().ssdb());
            env.put("SR_DB_TYPE", "Standalone");
        });
        spec.env().forEach((k, v) -> env.put(k, Tags.substitute(v, params, "env." + k + " (" + where + ")")));
        Path workDir = spec.workDir().map(w -> spec.baseDir().resolve(w).normalize()).orElse(dir);
        List<ModelPlan.RenderedFile> files = new ArrayList<>();
        Set<Path> targets = new HashSet<>();
        for (Path f : spec.configFiles()) {
            Path source = spec.baseDir().resolve(f).normalize();
            Path target = dir.resolve(source.getFileName());
            if (!targets.add(target)) {
                throw new InvalidSpecException("configFiles", "two config files are named " + source.getFileName()
                        + " and would both be written to " + target + "; rename one");
            }
            String text;
            try {
                text = Files.readString(source);
            } catch (MalformedInputException e) {
                throw new InvalidSpecException("configFiles", source + " is not UTF-8 text; config files are tagged "
                        + "text (;name; placeholders)");
            } catch (IOException e) {
                throw new InvalidSpecException("configFiles", "cannot read " + source + " (" + e.getClass()
                        .getSimpleName() + ": " + e.getMessage() + "); relative paths are against " + spec.baseDir());
            }
            files.add(new ModelPlan.RenderedFile(source, target, Tags.substitute(text, params,
                    "configFiles " + source.getFileName() + " (" + where + ")")));
        }
        return new ModelPlan(spec.name(), ensemble, spec.launcher(), dir, workDir, exe, args, env, spec.run(), params,
                files, dir.resolve(spec.name() + ".out"), dir.resolve(spec.name() + ".err"), colocated,
                spec.launcherOptions());
    }

    /**
     * Ensemble member {@code i}'s own database: port + i, or the socket path with {@code -i} before its extension
     * ({@code /tmp/ssdb.sock} -> {@code /tmp/ssdb-1.sock}), so members on one node do not share one.
     */
    static ColocatedDb memberDb(ColocatedDb db, int i) {
        if (db.port().isPresent()) {
            int p = db.port().get() + i;
            if (p > 65535) {
                throw new InvalidSpecException("colocatedDb.port", "ensemble member " + i + " would listen on port "
                        + p + " (port + member index); choose a lower port");
            }
            return db.at(Optional.of(p), Optional.empty());
        }
        Path s = db.socket().orElseThrow();
        String f = s.getFileName().toString();
        int dot = f.lastIndexOf('.');
        String name = dot > 0 ? f.substring(0, dot) + "-" + i + f.substring(dot) : f + "-" + i;
        return db.at(Optional.empty(), Optional.of(s.resolveSibling(name)));
    }

    /** Creates the model's directories and writes its config files: the one step between a plan and a launch. */
    public static void writeFiles(ModelPlan plan) {
        try {
            Files.createDirectories(plan.dir());
            Files.createDirectories(plan.workDir());
            for (ModelPlan.RenderedFile f : plan.files()) {
                Files.writeString(f.target(), f.content());
            }
            Files.deleteIfExists(plan.stdout());
            Files.deleteIfExists(plan.stderr());
            if (plan.colocated().isPresent()) {
                ColocatedPlan c = plan.colocated().get();
                for (var f : ColocatedPlanner.files(c).entrySet()) {
                    Files.writeString(Path.of(f.getKey()), f.getValue());
                }
                // an earlier run's failures: each rank would otherwise take them for this run's
                try (var old = Files.newDirectoryStream(plan.dir(), "colocated-*.error")) {
                    for (Path f : old) {
                        Files.deleteIfExists(f);
                    }
                }
            }
        } catch (IOException e) {
            throw new io.smartsim.launch.error.LaunchException("cannot write the files of model '" + plan.name() + "' under "
                    + plan.dir() + ": " + e.getMessage() + "; check that the experiment directory is writable", e);
        }
    }
}
