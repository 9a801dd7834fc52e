package io.smartsim.launch.plan;

import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.security.OwnerOnly;
import io.smartsim.launch.util.PreviousRun;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a plan's directories and config files: the one step between a pure plan and a launch. */
public final class PlanFiles {
    private PlanFiles() {
    }

    public static void write(LaunchPlan plan) {
        for (ShardPlan s : plan.shards()) {
            try {
                Files.createDirectories(plan.dir());
                // Owner-only: the config holds the database password, the directory will hold its data.
                OwnerOnly.restrict(plan.dir(), OwnerOnly.DIR);
                OwnerOnly.createDirectory(s.workDir());
                OwnerOnly.writeString(s.configPath(), s.config());
                // A node map from an earlier run would make the shard rejoin its old cluster.
                Files.deleteIfExists(s.workDir().resolve("nodes-" + s.port() + ".conf"));
                // The last run's log and console (why it ended, after a crash) stay beside the new ones as NAME.1.
                PreviousRun.keep(s.logPath());
                PreviousRun.keep(consoleLog(s));
            } catch (IOException e) {
                throw new LaunchException("cannot write the files of shard " + s.index() + " under " + s.workDir()
                        + ": " + e.getMessage() + "; check that the experiment directory is writable", e);
            }
        }
    }

    /** The launcher's stdout/stderr capture of a shard, beside its log. */
    public static Path consoleLog(ShardPlan s) {
        return s.workDir().resolve(s.name() + ".out");
    }
}
