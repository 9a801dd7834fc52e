package io.smartsim.launch.testing;

import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.LocalCommandRunner;
import io.smartsim.launch.util.Executables;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Whether the integration tests of a testbed run here: skipped, with the reason in the build output, when the testbed
 * is declined ({@code SKIP_SLURM=1}, {@code SKIP_SSH=1}, as {@code ./run-tests} reads them) or cannot be here (its
 * tools are not installed, or it needs root); failed when it should be here and is broken (installed and not
 * declined, but not answering), so that a broken testbed never passes as a skip.
 */
public final class Testbeds {
    private static final LocalCommandRunner SH = new LocalCommandRunner();

    private Testbeds() {
    }

    /** The Slurm testbed ({@code testbeds/slurm/up}): skips when declined or not installed, fails when it is down. */
    public static void slurm() {
        Optional<String> skip = slurmSkip(System.getenv(), Testbeds::onPath);
        assumeTrue(skip.isEmpty(), skip.orElse(""));
        CommandResult r;
        try {
            r = SH.run(List.of("sinfo", "-h"), Duration.ofSeconds(60));
        } catch (LaunchException e) {
            throw new AssertionError("sinfo is installed but did not run (" + e.getMessage() + "): " + SLURM_FIX, e);
        }
        assertThat(r.ok()).as("sinfo is installed but `sinfo -h` failed: %s%n%s", r.describe(), SLURM_FIX).isTrue();
    }

    /**
     * The PBS testbed ({@code testbeds/pbs/up}, which {@code up} names): skips when declined or when it cannot come up
     * here, otherwise brings it up (idempotent) and fails when that fails.
     */
    public static synchronized void pbs(Path up) {
        Optional<String> skip = pbsSkip(System.getenv(), Testbeds::onPath, uid());
        assumeTrue(skip.isEmpty(), skip.orElse(""));
        if (up.equals(pbsUp)) {
            return; // brought up by an earlier class of this JVM; no PBS test takes it down
        }
        CommandResult r = SH.run(List.of(up.toString()), Duration.ofSeconds(180));
        assertThat(r.exitCode()).as("%s failed (set SKIP_SLURM=1 to skip the Slurm and PBS tests): %s", up,
                r.describe()).isZero();
        pbsUp = up;
    }

    /**
     * The PBS testbed's {@code up} that succeeded in this JVM. It is idempotent but takes about 5 s even when all is
     * up (it checks the Slurm testbed, munge, slurmdbd and each node's sshd), and every PBS class calls it while it
     * holds the Slurm testbed: once per JVM saves the other classes that time.
     */
    private static Path pbsUp;

    /**
     * The ssh testbed ({@code testbeds/ssh/up}): skips when declined, or when sshd is not installed and this is not
     * root (the script would install openssh-server). The caller then runs the script and fails when it fails.
     */
    public static void ssh() {
        Optional<String> skip = sshSkip(System.getenv(), Files.isExecutable(Path.of("/usr/sbin/sshd")), uid());
        assumeTrue(skip.isEmpty(), skip.orElse(""));
    }

    static final String SLURM_FIX = "the Slurm testbed is down or broken: bring it up with testbeds/slurm/up (as "
            + "root; ./run-tests does), or set SKIP_SLURM=1 to skip the Slurm tests";

    static Optional<String> slurmSkip(Map<String, String> env, Predicate<String> onPath) {
        if ("1".equals(env.get("SKIP_SLURM"))) {
            return Optional.of("SKIP_SLURM=1: the Slurm testbed was declined");
        }
        if (!onPath.test("sinfo")) {
            return Optional.of("no sinfo on PATH: Slurm is not installed here (testbeds/slurm/up installs the "
                    + "testbed, as root)");
        }
        return Optional.empty();
    }

    static Optional<String> pbsSkip(Map<String, String> env, Predicate<String> onPath, int uid) {
        if ("1".equals(env.get("SKIP_SLURM"))) {
            return Optional.of("SKIP_SLURM=1: the PBS testbed is Torque's wrappers over the Slurm testbed, which was "
                    + "declined");
        }
        if (!onPath.test("qsub") || !onPath.test("sinfo")) {
            return Optional.of("no qsub/sinfo on PATH: the PBS testbed (Slurm with slurm-wlm-torque) is not installed "
                    + "here (testbeds/slurm/up installs it, as root)");
        }
        if (uid != 0) {
            return Optional.of("not root (uid " + uid + "): the PBS testbed's nodes are reached over ssh as root "
                    + "with a key only root can read, and testbeds/pbs/up must run as root");
        }
        return Optional.empty();
    }

    static Optional<String> sshSkip(Map<String, String> env, boolean sshdInstalled, int uid) {
        if ("1".equals(env.get("SKIP_SSH"))) {
            return Optional.of("SKIP_SSH=1: the ssh testbed was declined");
        }
        if (!sshdInstalled && uid != 0) {
            return Optional.of("no /usr/sbin/sshd and not root (uid " + uid + "): install openssh-server, or run "
                    + "testbeds/ssh/up as root, to run the ssh tests");
        }
        return Optional.empty();
    }

    private static boolean onPath(String name) {
        return Executables.onPath(name).isPresent();
    }

    static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalStateException("cannot tell this process's uid: " + e.getMessage(), e);
        }
    }
}
