package io.smartsim.launch.cli;

import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Launcher-specific options, carried into {@code OrchestratorSpec.launcherOptions} only when given. The CLI
 * knows no scheduler: each launcher validates its own keys and rejects the ones it does not take, naming them.
 */
public final class SchedulerOptions {
    /**
     * The launcher options of a batch job of its own: a resume given {@code --alloc} drops them from the record
     * (Slurm's and PBS's batch settings, {@code SlurmOptions}/{@code PbsOptions}).
     */
    static final java.util.Set<String> BATCH_KEYS = java.util.Set.of("batch", "time", "account", "partition", "qos",
            "constraint", "sbatch", "queue", "pbs");

    @Option(names = "--alloc", paramLabel = "JOBID", order = 40,
            description = "Start inside this existing allocation (default: the one in SLURM_JOB_ID / PBS_JOBID, if any).")
    String alloc;

    @Option(names = "--batch", order = 41, description = "Submit the orchestrator as its own batch job.")
    boolean batch;

    @Option(names = "--time", paramLabel = "HH:MM:SS", order = 42, description = "Batch job walltime.")
    String time;

    @Option(names = "--account", paramLabel = "NAME", order = 43, description = "Batch job account / project.")
    String account;

    @Option(names = "--partition", paramLabel = "NAME", order = 44, description = "Slurm partition of the batch job.")
    String partition;

    @Option(names = "--qos", paramLabel = "NAME", order = 45, description = "Slurm QOS of the batch job.")
    String qos;

    @Option(names = "--constraint", paramLabel = "FEATURES", order = 46, description = "Slurm node constraint.")
    String constraint;

    @Option(names = "--sbatch", paramLabel = "OPTION", order = 47,
            description = "An extra #SBATCH option, repeatable, for example --sbatch=--mem=4G.")
    List<String> sbatch = new ArrayList<>();

    @Option(names = "--queue", paramLabel = "NAME", order = 48, description = "PBS queue of the batch job (qsub -q).")
    String queue;

    @Option(names = "--pbs-dialect", paramLabel = "pro|torque", order = 48,
            description = "PBS flavour: pro (PBS Professional, OpenPBS) or torque (default: detected from qstat --version).")
    String pbsDialect;

    @Option(names = "--run-command", paramLabel = "auto|mpiexec|pbsdsh|ssh", order = 48,
            description = "What starts each shard on its PBS node (default auto: pbsdsh, then mpiexec, then ssh).")
    String runCommand;

    @Option(names = "--pbs", paramLabel = "OPTION", order = 48,
            description = "An extra #PBS option, repeatable, for example --pbs='-l mem=4gb'.")
    List<String> pbs = new ArrayList<>();

    @Option(names = "--remote", paramLabel = "USER@LOGIN-HOST[:PORT]", order = 59,
            description = "slurm/pbs launchers: run every scheduler command and write every file on this login node "
                    + "over SSH (a ~/.ssh/config alias works); shards are reached through ports forwarded by it.")
    String remote;

    @Option(names = "--hosts", paramLabel = "H1,H2,...", order = 60,
            description = "ssh launcher: the hosts to start shards on, one per node (names, ~/.ssh/config aliases or user@host:port).")
    String hosts;

    @Option(names = "--ssh-user", paramLabel = "USER", order = 61, description = "SSH user (overrides ~/.ssh/config).")
    String sshUser;

    @Option(names = "--ssh-port", paramLabel = "PORT", order = 62, description = "SSH port (overrides ~/.ssh/config).")
    String sshPort;

    @Option(names = "--identity", paramLabel = "KEY", order = 63,
            description = "SSH private key to use instead of ~/.ssh/config's IdentityFile and the agent.")
    String identity;

    @Option(names = "--accept-new-host-key", order = 64,
            description = "Record the key of a host not yet in known_hosts (a changed key is always refused).")
    boolean acceptNewHostKey;

    @Option(names = "--launcher-option", paramLabel = "KEY=VALUE", order = 49, mapFallbackValue = "",
            description = "Any other launcher option, repeatable (see the launcher's section of the README).")
    Map<String, String> other = new LinkedHashMap<>();

    /** The launcher options the user gave, in a stable order. */
    Map<String, String> toLauncherOptions() {
        Map<String, String> out = new LinkedHashMap<>(other);
        put(out, "alloc", alloc);
        if (batch) {
            out.put("batch", "true");
        }
        put(out, "time", time);
        put(out, "account", account);
        put(out, "partition", partition);
        put(out, "qos", qos);
        put(out, "constraint", constraint);
        if (!sbatch.isEmpty()) {
            out.put("sbatch", String.join("\n", sbatch));
        }
        put(out, "remote", remote);
        put(out, "hosts", hosts);
        put(out, "ssh-user", sshUser);
        put(out, "ssh-port", sshPort);
        put(out, "identity", identity == null ? null : java.nio.file.Path.of(identity).toAbsolutePath().toString());
        if (acceptNewHostKey) {
            out.put("accept-new-host-key", "true");
        }
        put(out, "queue", queue);
        put(out, "dialect", pbsDialect);
        put(out, "runCommand", runCommand);
        if (!pbs.isEmpty()) {
            out.put("pbs", String.join("\n", pbs));
        }
        return out;
    }

    private static void put(Map<String, String> out, String key, String value) {
        if (value != null) {
            out.put(key, value);
        }
    }
}
