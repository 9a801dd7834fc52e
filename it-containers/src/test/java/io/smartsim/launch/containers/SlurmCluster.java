package io.smartsim.launch.containers;

import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Slurm cluster of containers ({@code smartsim-testbed/slurm}): the controller {@code ctl} (slurmctld), compute
 * nodes {@code c1}..{@code cN} (slurmd) and a login node {@code login} (sshd), each its own container with its own
 * hostname, address, process table and {@code /tmp}; munged in each with one munge key made for this run; slurm.conf
 * made here and given to each; the login node also has the CLI's jar ({@link #LOGIN_JAR}), to run the launcher there
 * as a user would. The login node and the compute nodes have a Java runtime (a colocated database's model server runs
 * on its node), and this build's AI directory ({@link #AI_DIR}) mounted read-only at the same path as here. A directory of this machine is mounted on every node at {@link #shared()},
 * the same path on all of them, as a cluster's parallel file system; this machine's own directory at that path is
 * another one (when the launcher runs here, as on a laptop, it reaches the cluster through the login node with
 * {@code --remote}).
 */
final class SlurmCluster implements AutoCloseable {
    private static final Duration READY = Duration.ofSeconds(90);
    private static final String MUNGED = "/usr/sbin/munged";
    /** The CLI's shaded jar here, copied to the login node (its image has a Java runtime) when it has been built. */
    static final Path CLI_JAR = Path.of(System.getProperty("smartsim.launch.jar", "../cli/target/smartsim-launch.jar"));
    /**
     * This build's AI directory (ai-dist/target/ai: the model server's jars and smartsim-ai.so), mounted read-only at
     * this same path on the login and compute nodes when it exists, as an installation on a file system every node
     * mounts: {@code SMARTSIM_AI_PATH} names it there.
     */
    static final Path AI_DIR = Path.of(System.getProperty("smartsim.ai.dir", "../ai-dist/target/ai")).toAbsolutePath()
            .normalize();
    /** Where the login node has the CLI's jar. */
    static final String LOGIN_JAR = "/opt/smartsim-launch/smartsim-launch.jar";

    private final Network network;
    private final GenericContainer<?> ctl;
    private final List<GenericContainer<?>> nodes;
    private final GenericContainer<?> login;
    private final Path shared;
    private final Path sshConfig;

    private SlurmCluster(Network network, GenericContainer<?> ctl, List<GenericContainer<?>> nodes,
                         GenericContainer<?> login, Path shared, Path sshConfig) {
        this.network = network;
        this.ctl = ctl;
        this.nodes = nodes;
        this.login = login;
        this.shared = shared;
        this.sshConfig = sshConfig;
    }

    /**
     * Starts a cluster of {@code n} compute nodes and waits until Slurm shows them all idle. {@code keys} receives the
     * munge key, slurm.conf, the client key, known_hosts and ssh_config; {@code fs} is this machine's directory
     * mounted on every node at {@code shared}.
     */
    static SlurmCluster start(int n, Path keys, Path fs, Path shared) throws IOException, InterruptedException {
        Files.createDirectories(keys);
        Files.createDirectories(fs);
        byte[] mungeKey = new byte[1024];
        new SecureRandom().nextBytes(mungeKey);
        Path munge = Files.write(keys.resolve("munge.key"), mungeKey);
        Path conf = Files.writeString(keys.resolve("slurm.conf"), slurmConf(n));
        Path key = keys.resolve("id_ed25519");
        run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "smartsim-it-containers", "-f",
                key.toString()));

        Network network = ContainerTestbed.network();
        List<GenericContainer<?>> all = new ArrayList<>();
        try {
            GenericContainer<?> ctl = host(ContainerTestbed.SLURM_IMAGE, "ctl", "controller", network, munge, conf, fs,
                    shared)
                    .waitingFor(Wait.forLogMessage(".*slurmctld version .* started.*", 1).withStartupTimeout(READY));
            all.add(ctl);
            List<GenericContainer<?>> nodes = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                // the login node's image: slurmd and a Java runtime, for the model servers of colocated databases
                GenericContainer<?> c = host(ContainerTestbed.SLURM_LOGIN_IMAGE, "c" + i, "node", network, munge, conf,
                        fs, shared)
                        .waitingFor(Wait.forLogMessage(".*slurmd version .* started.*", 1).withStartupTimeout(READY));
                nodes.add(c);
                all.add(c);
            }
            GenericContainer<?> login = host(ContainerTestbed.SLURM_LOGIN_IMAGE, "login", "login", network, munge, conf,
                    fs, shared)
                    .withCopyToContainer(MountableFile.forHostPath(keys.resolve("id_ed25519.pub"), 0600),
                            "/root/.ssh/authorized_keys")
                    .waitingFor(Wait.forLogMessage(".*Server listening on 0\\.0\\.0\\.0 port 22.*", 1)
                            .withStartupTimeout(READY));
            if (Files.isRegularFile(CLI_JAR)) {
                login.withCopyToContainer(MountableFile.forHostPath(CLI_JAR, 0644), LOGIN_JAR);
            }
            all.add(login);
            // The nodes and the login node first: slurmctld resolves every node's name as it starts.
            Startables.deepStart(Stream.concat(nodes.stream(), Stream.of(login))).join();
            ctl.start();

            String ip = login.getContainerInfo().getNetworkSettings().getNetworks().values().iterator().next()
                    .getIpAddress();
            String hostKey = Inside.exec(login, "cut", "-d", " ", "-f1,2", "/etc/ssh/ssh_host_ed25519_key.pub").strip();
            Files.writeString(keys.resolve("known_hosts"), "login," + ip + " " + hostKey + "\n");
            Path sshConfig = Files.writeString(keys.resolve("ssh_config"),
                    "# Generated by it-containers' SlurmCluster\nHost login\n"
                    + "    HostName " + ip + "\n"
                    + "    Port 22\n"
                    + "    User root\n"
                    + "    IdentityFile " + key + "\n"
                    + "    IdentitiesOnly yes\n"
                    + "    UserKnownHostsFile " + keys.resolve("known_hosts") + "\n"
                    + "    StrictHostKeyChecking yes\n");
            SlurmCluster cluster = new SlurmCluster(network, ctl, nodes, login, shared, sshConfig);
            cluster.awaitIdle(n);
            return cluster;
        } catch (RuntimeException | IOException | Error | InterruptedException e) {
            all.forEach(GenericContainer::stop);
            network.close();
            throw e;
        }
    }

    private static GenericContainer<?> host(String image, String name, String role, Network network, Path munge,
                                            Path conf, Path fs, Path shared) {
        return new GenericContainer<>(DockerImageName.parse(image))
                .withNetwork(network).withNetworkAliases(name)
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withHostName(name);
                    List<Bind> binds = new ArrayList<>();
                    binds.add(new Bind(fs.toString(), new Volume(shared.toString())));
                    if (Files.isDirectory(AI_DIR)) {
                        binds.add(new Bind(AI_DIR.toString(), new Volume(AI_DIR.toString()), AccessMode.ro));
                    }
                    cmd.getHostConfig().withBinds(binds.toArray(new Bind[0]));
                })
                .withLabels(ContainerTestbed.LABELS)
                .withCopyToContainer(MountableFile.forHostPath(munge, 0400), "/etc/munge/munge.key")
                .withCopyToContainer(MountableFile.forHostPath(conf, 0644), "/etc/slurm/slurm.conf")
                .withCommand(role);
    }

    /** slurm.conf of the cluster: no accounting daemon; the nodes found by name on the containers' network. */
    static String slurmConf(int n) {
        return String.join("\n",
                "# Generated by it-containers' SlurmCluster: a controller, " + n + " compute nodes, a login node",
                "ClusterName=containers",
                "SlurmctldHost=ctl",
                "SlurmUser=root",
                "SlurmdUser=root",
                "AuthType=auth/munge",
                "CredType=cred/munge",
                "StateSaveLocation=/var/spool/slurmctld",
                "SlurmdSpoolDir=/var/spool/slurmd",
                "SlurmctldPidFile=/run/slurmctld.pid",
                "SlurmdPidFile=/run/slurmd.pid",
                // No log files: the daemons run in the foreground and log to their container's output.
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "MpiDefault=none",
                "SwitchType=switch/none",
                "SchedulerType=sched/backfill",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core",
                "ReturnToService=2",
                "JobAcctGatherType=jobacct_gather/none",
                "AccountingStorageType=accounting_storage/none",
                "JobCompType=jobcomp/none",
                "MailProg=/bin/true",
                "SlurmctldTimeout=30",
                "SlurmdTimeout=60",
                "InactiveLimit=0",
                "MinJobAge=300",
                "KillWait=5",
                "Waittime=0",
                "NodeName=c[1-" + n + "] CPUs=2 State=UNKNOWN",
                "PartitionName=debug Nodes=c[1-" + n + "] Default=YES MaxTime=INFINITE State=UP",
                "");
    }

    private void awaitIdle(int n) throws InterruptedException {
        long until = System.nanoTime() + READY.toNanos();
        String seen = "";
        while (System.nanoTime() < until) {
            seen = Inside.execResult(login, "sinfo", "-h", "-N", "-o", "%N %t").getStdout();
            if (seen.lines().filter(l -> l.endsWith(" idle")).count() == n) {
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("the cluster's " + n + " nodes were not all idle within " + READY.toSeconds()
                + " s; sinfo on login:\n" + seen + "\nslurmctld's output:\n" + ctl.getLogs());
    }

    /** Runs a command on the login node (docker exec: the test's own view); its stdout, or fails. */
    String onLogin(String... argv) {
        return Inside.exec(login, argv);
    }

    /** Runs a command on the login node as a user's shell would; its exit code and output. */
    org.testcontainers.containers.Container.ExecResult onLoginResult(String... argv) {
        return Inside.execResult(login, argv);
    }

    Path sshConfig() {
        return sshConfig;
    }

    /** Where the cluster's shared file system is mounted, on every node. */
    Path shared() {
        return shared;
    }

    List<GenericContainer<?>> nodes() {
        return nodes;
    }

    /**
     * Every host as the leftover check sees it: pid 1 is tini, and each runs munged and its own daemon (slurmctld and
     * its slurmscriptd, slurmd, or sshd's listener); anything else is a leftover.
     */
    List<Inside.Host> all() {
        List<Inside.Host> out = new ArrayList<>();
        out.add(new Inside.Host("ctl", ctl, List.of(MUNGED, "/usr/sbin/slurmctld -D", "slurmctld: slurmscriptd")));
        for (int i = 0; i < nodes.size(); i++) {
            out.add(new Inside.Host("c" + (i + 1), nodes.get(i), List.of(MUNGED, "/usr/sbin/slurmd -D")));
        }
        out.add(new Inside.Host("login", login, List.of(MUNGED, "sshd: /usr/sbin/sshd -D -e [listener]")));
        return out;
    }

    /** The address of compute node {@code i} (0-based) on the cluster's network. */
    String nodeAddress(int i) {
        return nodes.get(i).getContainerInfo().getNetworkSettings().getNetworks().values().iterator().next()
                .getIpAddress();
    }

    @Override
    public void close() {
        Stream.concat(Stream.of(login, ctl), nodes.stream()).forEach(GenericContainer::stop);
        network.close();
    }

    private static void run(List<String> argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(argv + " failed: " + out);
        }
    }
}
