package io.smartsim.launch.pbs;

import io.smartsim.launch.script.Shell;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Pure argv builders for the PBS commands and run commands this launcher runs. Nothing here runs anything. */
public final class PbsCommands {
    private PbsCommands() {
    }

    /** PBS Pro prints {@code pbs_version = ...}, Torque {@code Version: ...}. */
    public static List<String> version() {
        return List.of("qstat", "--version");
    }

    /** Which run commands exist where scheduler commands run: {@code which} prints the path of each one found. */
    public static List<String> which(List<String> names) {
        List<String> argv = new ArrayList<>();
        argv.add("which");
        argv.addAll(names);
        return argv;
    }

    /**
     * Submits a rendered script. Output joined into one file given here, as an argument, so its path needs no
     * quoting and front ends that ignore {@code #PBS -o} (Slurm's qsub wrapper) still honour it.
     */
    public static List<String> qsub(Path script, Path output) {
        return List.of("qsub", "-j", "oe", "-o", output.toString(), script.toString());
    }

    /**
     * One status query for several jobs. PBS Pro: {@code qstat -f -F json -x} ({@code -x} keeps finished jobs
     * when the server keeps history); with several ids OpenPBS 23.06 prints only the first job, so several ids
     * are asked for as "all jobs" and filtered by the parser's caller. Torque: {@code qstat -f ID...} text
     * (in Torque {@code -x} means XML, so it is not given).
     */
    public static List<String> qstat(Dialect dialect, List<String> jobIds) {
        List<String> argv = new ArrayList<>(List.of("qstat", "-f"));
        if (dialect == Dialect.PRO) {
            argv.addAll(List.of("-F", "json", "-x"));
            if (jobIds.size() == 1) {
                argv.add(jobIds.get(0));
            }
        } else {
            argv.addAll(jobIds);
        }
        return argv;
    }

    /** Deletes jobs in one call. */
    public static List<String> qdel(List<String> jobIds) {
        List<String> argv = new ArrayList<>();
        argv.add("qdel");
        argv.addAll(jobIds);
        return argv;
    }

    /**
     * Starts {@code bash wrapper node} on one node of the job.
     * <ul>
     * <li>{@code pbsdsh -n INDEX --}: INDEX is the node's first line in {@code PBS_NODEFILE} (0-based); both PBS Pro
     * and Torque take {@code -n}, only Torque takes {@code -h HOST}.</li>
     * <li>{@code mpiexec -n 1 -host NODE}: the options MPICH (hydra), Open MPI, Intel MPI and PBS Pro's own
     * mpiexec share.</li>
     * <li>{@code ssh NODE 'exec bash wrapper node end-with-ssh'}: ssh hands the remote shell one string, so each word
     * is quoted once; {@code BatchMode} makes a missing key fail at once instead of prompting; see
     * {@link #END_WITH_SSH}.</li>
     * </ul>
     */
    public static List<String> runShard(RunCommand run, String node, String nodeIndex, Path wrapper,
                                        Optional<Path> sshConfig) {
        List<String> argv = new ArrayList<>();
        switch (run) {
            case PBSDSH -> argv.addAll(List.of("pbsdsh", "-n", nodeIndex, "--", "bash", wrapper.toString(), node));
            case MPIEXEC -> argv.addAll(List.of("mpiexec", "-n", "1", "-host", node, "bash", wrapper.toString(), node));
            case SSH -> {
                argv.addAll(ssh(sshConfig, node));
                argv.add(Shell.join(List.of("exec", "bash", wrapper.toString())) + " " + node + " " + END_WITH_SSH);
            }
        }
        return argv;
    }

    /**
     * The wrapper's second argument over ssh: the shard ends with its ssh session. sshd leaves a command running when
     * its client dies (the batch job's or this machine's, killed with the job, even by SIGKILL); the wrapper's watch
     * then stops the server. {@code exec} makes sshd's session the wrapper's parent whatever the login shell.
     */
    public static final String END_WITH_SSH = "end-with-ssh";

    /**
     * Runs {@code argv} on one node of the job with the run command, as {@link #runShard} starts a shard there (for
     * {@code --port auto}: the node's listening sockets). Over ssh the remote shell gets {@code argv} quoted once.
     */
    public static List<String> runOnNode(RunCommand run, String node, String nodeIndex, List<String> command,
                                         Optional<Path> sshConfig) {
        List<String> argv = new ArrayList<>();
        switch (run) {
            case PBSDSH -> argv.addAll(List.of("pbsdsh", "-n", nodeIndex, "--"));
            case MPIEXEC -> argv.addAll(List.of("mpiexec", "-n", "1", "-host", node));
            case SSH -> argv.addAll(ssh(sshConfig, node));
        }
        if (run == RunCommand.SSH) {
            argv.add(Shell.join(command));
        } else {
            argv.addAll(command);
        }
        return argv;
    }

    /** The last line of an answer file ({@link #answerInFile}): this mark, a space, the command's exit code. */
    public static final String EXIT_MARK = "smartsim-launch-exit";

    /**
     * {@code command}, run on a node, with its answer in a file instead of on its output: OpenPBS's {@code pbsdsh}
     * does not hand its tasks' output back to its caller (it goes to the job's output file, mixed with the job
     * script's), so a command whose output matters writes both its streams, then {@link #EXIT_MARK} and its exit code,
     * to {@code answer.tmp} and renames that to {@code answer} (a reader never sees half of it). {@code answer} must
     * be on a file system the nodes and the launcher share (the experiment directory). Nothing is printed, so the
     * job's output stays clean. The same with every run command.
     */
    public static List<String> answerInFile(List<String> command, Path answer) {
        List<String> argv = new ArrayList<>(List.of("sh", "-c", "mkdir -p \"$(dirname \"$0\")\" && { \"$@\"; echo \""
                + EXIT_MARK + " $?\"; } > \"$0.tmp\" 2>&1 && mv -f \"$0.tmp\" \"$0\"", answer.toString()));
        argv.addAll(command);
        return argv;
    }

    /** Ends a shard started over ssh: its process is not the job's, so {@code qdel} cannot. */
    public static List<String> sshKill(Optional<Path> sshConfig, String node, long pid) {
        List<String> argv = ssh(sshConfig, node);
        argv.add("kill " + pid);
        return argv;
    }

    private static List<String> ssh(Optional<Path> sshConfig, String node) {
        List<String> argv = new ArrayList<>();
        argv.add("ssh");
        sshConfig.ifPresent(c -> argv.addAll(List.of("-F", c.toString())));
        argv.addAll(List.of("-o", "BatchMode=yes", node));
        return argv;
    }
}
