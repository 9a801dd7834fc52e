package io.smartsim.launch.slurm;

import io.smartsim.launch.util.ListeningPorts;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Pure argv builders for the Slurm commands this launcher runs. Nothing here runs anything. */
public final class SlurmCommands {
    /** {@code squeue} job format: id, name, state, pending reason, node list. */
    public static final String JOB_FORMAT = "%i|%j|%T|%r|%N";
    /** {@code squeue -s} step format: {@code JOB.STEP}, name, node list (steps have no state column). */
    public static final String STEP_FORMAT = "%i|%j|%N";
    public static final String SACCT_FIELDS = "JobID,JobName,State,ExitCode,NodeList";

    private SlurmCommands() {
    }

    public static List<String> version() {
        return List.of("sinfo", "-V");
    }

    /** One query for several jobs. */
    public static List<String> squeueJobs(List<String> jobIds) {
        return List.of("squeue", "-h", "-j", String.join(",", jobIds), "-o", JOB_FORMAT);
    }

    /**
     * One query for several jobs in every state: with {@code -t all}, squeue also lists a job that has ended, with
     * its end state (CANCELLED, TIMEOUT, ...), for as long as slurmctld keeps it (MinJobAge, 300 s by default);
     * without it, only pending, running and completing jobs (seen on 22.05).
     */
    public static List<String> squeueJobsAnyState(List<String> jobIds) {
        return List.of("squeue", "-h", "-t", "all", "-j", String.join(",", jobIds), "-o", JOB_FORMAT);
    }

    /** One query for the running steps of several jobs. */
    public static List<String> squeueSteps(List<String> jobIds) {
        return List.of("squeue", "-h", "-s", "-j", String.join(",", jobIds), "-o", STEP_FORMAT);
    }

    public static List<String> hostnames(String nodeList) {
        return List.of("scontrol", "show", "hostnames", nodeList);
    }

    public static List<String> sacct(List<String> jobIds) {
        return List.of("sacct", "-n", "-P", "-j", String.join(",", jobIds), "-o", SACCT_FIELDS);
    }

    /** Submits a rendered batch script; {@code --chdir} and {@code --output} as arguments, so paths need no quoting. */
    public static List<String> sbatch(Path script, Path workDir, Path output) {
        return List.of("sbatch", "--parsable", "--chdir=" + workDir, "--output=" + output, script.toString());
    }

    /** Cancels jobs or steps ({@code JOB} or {@code JOB.STEP}) in one call. */
    public static List<String> scancel(List<String> ids) {
        List<String> argv = new ArrayList<>();
        argv.add("scancel");
        argv.addAll(ids);
        return argv;
    }

    /**
     * Ends a shard's {@code srun} by its pid where commands run, if that pid still is this job's srun of this step
     * name (its command line says so: a pid reused since is left alone). Arguments: the pid, and two strings its
     * command line must contain. A detached start on a login node leads its own process group: the group is
     * signalled, else the process. Exits 0 whether or not there was anything to end.
     */
    static final String KILL_SRUN_SCRIPT = String.join("\n",
            "args=$(ps -o args= -p \"$1\" 2>/dev/null) || exit 0",
            "case $args in *\"$2\"*\"$3\"*) ;; *) exit 0 ;; esac",
            "kill -s TERM -- \"-$1\" 2>/dev/null || kill -s TERM -- \"$1\" 2>/dev/null",
            "exit 0");

    /** Exits 0 if pid {@code $1} is a process whose command line contains {@code $2} and then {@code $3}, else 1. */
    static final String SRUN_ALIVE_SCRIPT = String.join("\n",
            "args=$(ps -o args= -p \"$1\" 2>/dev/null) || exit 1",
            "case $args in *\"$2\"*\"$3\"*) exit 0 ;; esac",
            "exit 1");

    /**
     * Whether pid {@code pid}, where commands run, still is the srun {@link #srunShard} started for {@code stepName}
     * in {@code jobId} (exit code 0): a pid reused since by another process does not count.
     */
    public static List<String> srunAlive(long pid, String jobId, String stepName) {
        return List.of("sh", "-c", SRUN_ALIVE_SCRIPT, "sh", Long.toString(pid), "--jobid=" + jobId,
                "--job-name=" + stepName + " ");
    }

    /**
     * Prints the pid of each process whose command line has {@code --jobid=$1 } and later
     * {@code --job-name=$2 --chdir=$3 }: the srun {@link #srunShard} started for that step and work directory. Built
     * here from its parts, the pattern is in no command line but that srun's (this script's own holds them apart).
     */
    static final String SRUN_PIDS_SCRIPT = String.join("\n",
            "ps -eo pid=,args= | while read -r pid args; do",
            "  case $args in *\"--jobid=$1 \"*\"--job-name=$2 --chdir=$3 \"*) echo \"$pid\" ;; esac",
            "done");

    /**
     * The srun of a shard whose pid was never recorded (its start was killed just after spawning it), found where
     * commands run by its command line: pids on stdout, one a line.
     */
    public static List<String> srunPids(String jobId, String stepName, Path workDir) {
        return List.of("sh", "-c", SRUN_PIDS_SCRIPT, "sh", jobId, stepName, workDir.toString());
    }

    /** Ends the srun {@link #srunShard} started for {@code stepName} in {@code jobId}, if pid {@code pid} still is it. */
    public static List<String> killSrun(long pid, String jobId, String stepName) {
        return List.of("sh", "-c", KILL_SRUN_SCRIPT, "sh", Long.toString(pid), "--jobid=" + jobId,
                "--job-name=" + stepName + " ");
    }

    /**
     * {@code --port auto}: one step of one task on each of {@code nodes} of allocation {@code jobId} that prints the
     * node's listening sockets ({@link ListeningPorts#command}; the task names its node by {@code SLURMD_NODENAME}).
     * {@code --overlap} so it runs beside whatever the allocation already runs.
     */
    public static List<String> srunListeningPorts(String jobId, List<String> nodes, String stepName) {
        return srunOn(jobId, nodes, stepName, ListeningPorts.command(""));
    }

    /** {@code command} once on each of {@code nodes} of allocation {@code jobId}, as one step beside its others. */
    public static List<String> srunOn(String jobId, List<String> nodes, String stepName, List<String> command) {
        List<String> argv = new ArrayList<>(List.of("srun", "--jobid=" + jobId, "--nodes=" + nodes.size(),
                "--ntasks=" + nodes.size(), "--ntasks-per-node=1", "--overlap", "--nodelist=" + String.join(",", nodes),
                "--job-name=" + stepName));
        argv.addAll(command);
        return argv;
    }

    /**
     * One shard as its own step: one task on one named node. {@code --overlap} lets shards share the node's CPUs
     * with each other and with the model's steps (without it a second step on a node waits for free CPUs);
     * {@code --jobid} is given when starting in an existing allocation from outside its batch script.
     * {@code --cpus-per-task} is added when {@code cpusPerTask > 1}: the batch job asks for that many per task
     * slot; in someone else's allocation the caller passes 1 and the allocation's own CPU layout applies.
     */
    public static List<String> srunShard(Optional<String> jobId, String node, String stepName, Path workDir,
                                         Path wrapper, int cpusPerTask) {
        List<String> argv = new ArrayList<>();
        argv.add("srun");
        jobId.ifPresent(j -> argv.add("--jobid=" + j));
        argv.addAll(List.of("--nodes=1", "--ntasks=1", "--ntasks-per-node=1"));
        if (cpusPerTask > 1) {
            argv.add("--cpus-per-task=" + cpusPerTask);
        }
        argv.addAll(List.of("--overlap", "--nodelist=" + node, "--job-name=" + stepName, "--chdir=" + workDir, "bash",
                wrapper.toString()));
        return argv;
    }
}
