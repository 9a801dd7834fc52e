package io.smartsim.launch.pbs;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spi.BatchOptions;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The PBS launcher's part of a spec, read from {@code launcherOptions}.
 *
 * @param alloc      the job to start shards in ({@code alloc}); empty means {@code PBS_JOBID}
 * @param batch      submit the orchestrator as its own batch job ({@code batch=true})
 * @param time       walltime of the batch job, {@code [[HH:]MM:]SS} ({@code time})
 * @param account    {@code -A} of the batch job ({@code account})
 * @param queue      {@code -q} of the batch job ({@code queue})
 * @param dialect    {@code pro} or {@code torque} ({@code dialect}); empty means detect from {@code qstat --version}
 * @param runCommand what starts each shard on its node ({@code runCommand}); empty means {@code auto}
 * @param pbsLines   extra directives for the batch script, one option each ({@code pbs}, lines split on newlines)
 * @param sshConfig  an ssh client config file for the {@code ssh} run command ({@code sshConfig}, {@code ssh -F})
 */
public record PbsOptions(Optional<String> alloc, boolean batch, Optional<String> time, Optional<String> account,
                         Optional<String> queue, Optional<Dialect> dialect, Optional<RunCommand> runCommand,
                         List<String> pbsLines, Optional<Path> sshConfig) {
    public static final Set<String> KEYS = Set.of("alloc", "batch", "time", "account", "queue", "dialect",
            "runCommand", "pbs", "sshConfig");
    private static final Set<String> BATCH_ONLY = Set.of("time", "account", "queue", "pbs");
    /** {@code 1234}, {@code 1234.server}, {@code 12[].server} (PBS Pro and Torque job ids). */
    static final Pattern JOB_ID = Pattern.compile("[0-9]+(\\[[0-9]*])?(\\.[A-Za-z0-9_.-]+)?");
    private static final Pattern WALLTIME = Pattern.compile("[0-9]+(:[0-5][0-9]){0,2}");

    public PbsOptions {
        alloc = alloc == null ? Optional.empty() : alloc;
        alloc.ifPresent(a -> {
            if (!JOB_ID.matcher(a).matches()) {
                throw new InvalidSpecException("launcherOptions.alloc", "'" + a + "' is not a PBS job id; give the id "
                        + "of a running job as qsub printed it, for example 1234 or 1234.server (see qstat -u $USER)");
            }
        });
        if (batch && alloc.isPresent()) {
            throw new InvalidSpecException("launcherOptions", "alloc=" + alloc.get() + " and batch=true together: "
                    + "either start in an existing job or submit a new batch job, not both");
        }
        time = BatchOptions.directiveValue("time", time, "a #PBS value");
        time.ifPresent(t -> {
            if (!WALLTIME.matcher(t).matches()) {
                throw new InvalidSpecException("launcherOptions.time", "'" + t + "' is not a PBS walltime; use "
                        + "HH:MM:SS, for example 01:30:00");
            }
        });
        account = BatchOptions.directiveValue("account", account, "a #PBS value");
        queue = BatchOptions.directiveValue("queue", queue, "a #PBS value");
        dialect = dialect == null ? Optional.empty() : dialect;
        runCommand = runCommand == null ? Optional.empty() : runCommand;
        sshConfig = sshConfig == null ? Optional.empty() : sshConfig;
        pbsLines = BatchOptions.directiveLines("pbs", pbsLines, "qsub", "#PBS", "-l mem=4gb");
    }

    /** Reads and checks launcher options; unknown keys and batch settings without {@code batch=true} fail. */
    public static PbsOptions parse(Map<String, String> options) {
        BatchOptions.knownKeys(options, KEYS, "pbs");
        boolean batch = BatchOptions.batchFlag(options, BATCH_ONLY, "a job");
        Optional<Dialect> dialect = Optional.empty();
        String d = options.getOrDefault("dialect", "auto");
        if (!d.equals("auto")) {
            dialect = Optional.of(Dialect.fromOption(d).orElseThrow(() -> new InvalidSpecException(
                    "launcherOptions.dialect", "'" + d + "' is not a PBS dialect; use pro (PBS Professional, OpenPBS), "
                    + "torque, or auto (detect from qstat --version)")));
        }
        Optional<RunCommand> run = Optional.empty();
        String r = options.getOrDefault("runCommand", "auto");
        if (!r.equals("auto")) {
            run = Optional.of(RunCommand.fromOption(r).orElseThrow(() -> new InvalidSpecException(
                    "launcherOptions.runCommand", "'" + r + "' is not a run command; use auto, mpiexec, pbsdsh or ssh")));
        }
        Optional<Path> sshConfig = Optional.ofNullable(options.get("sshConfig")).map(Path::of);
        if (sshConfig.isPresent() && run.isPresent() && run.get() != RunCommand.SSH) {
            throw new InvalidSpecException("launcherOptions.sshConfig", "only applies to runCommand=ssh, but "
                    + "runCommand=" + r);
        }
        List<String> lines = BatchOptions.lines(Optional.ofNullable(options.get("pbs")));
        return new PbsOptions(Optional.ofNullable(options.get("alloc")), batch, opt(options, "time"),
                opt(options, "account"), opt(options, "queue"), dialect, run, lines, sshConfig);
    }

    private static Optional<String> opt(Map<String, String> options, String key) {
        return Optional.ofNullable(options.get(key));
    }
}
