package io.smartsim.launch.testing;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every integration test that uses a shared testbed says so with {@link TestbedLock}, so that test JVMs running side
 * by side (a parallel build, another worktree) take turns on it. A scan of every module's {@code *IT.java} sources for
 * the testbeds' helpers and commands; a class that stops sshd or drops its sessions must hold the ssh testbed alone.
 */
class EveryTestbedItTakesItsLockTest {
    /** What shows that a test uses a testbed: its helpers, and the scheduler commands a test runs itself. */
    static final Map<TestbedLock.Bed, Pattern> USES = Map.of(
            TestbedLock.Bed.SLURM, Pattern.compile("\\bHolderJobs\\b|\\bPbsTestJobs\\b|Testbeds\\.(slurm|pbs)\\(|"
                    + "SshTestbed\\.upWithSlurm\\(|\"(sbatch|srun|squeue|scancel|salloc|sinfo|qsub|qstat|qdel)\""),
            TestbedLock.Bed.PBS, Pattern.compile("\\bPbsTestJobs\\b|Testbeds\\.pbs\\(|\\b22022\\b"),
            TestbedLock.Bed.SSH, Pattern.compile("\\bSshTestbed\\.|\\b2222\\b"),
            TestbedLock.Bed.CONTAINERS, Pattern.compile("\\bContainerTestbed\\b|\\bSlurmCluster\\b|\\bSshHosts\\b"));
    /** Slurm commands run inside the containers' own cluster are not the Slurm testbed's. */
    private static final Pattern OWN_SLURM = Pattern.compile("\\bSlurmCluster\\b");
    private static final Pattern DISRUPTS_SSH = Pattern.compile("SshTestbed\\.(cut|dropSessions)\\(");

    static Set<TestbedLock.Bed> uses(String source) {
        Set<TestbedLock.Bed> beds = EnumSet.noneOf(TestbedLock.Bed.class);
        USES.forEach((bed, p) -> {
            if (p.matcher(source).find()) {
                beds.add(bed);
            }
        });
        if (OWN_SLURM.matcher(source).find() && !Pattern.compile("\\bHolderJobs\\b|Testbeds\\.slurm\\(")
                .matcher(source).find()) {
            beds.remove(TestbedLock.Bed.SLURM);
        }
        return beds;
    }

    static Set<TestbedLock.Bed> locks(String source, boolean exclusiveOnly) {
        Set<TestbedLock.Bed> beds = EnumSet.noneOf(TestbedLock.Bed.class);
        var m = Pattern.compile("@TestbedLock\\((?:value\\s*=\\s*)?TestbedLock\\.Bed\\.(\\w+)(\\s*,\\s*shared\\s*=\\s*"
                + "true)?\\)").matcher(source);
        while (m.find()) {
            if (!exclusiveOnly || m.group(2) == null) {
                beds.add(TestbedLock.Bed.valueOf(m.group(1)));
            }
        }
        return beds;
    }

    private static List<Path> integrationTests() {
        Path root = Path.of("").toAbsolutePath().getParent();
        assertThat(root.resolve("pom.xml")).exists();
        try (Stream<Path> files = Files.walk(root, 12)) {
            return files.filter(p -> p.getFileName().toString().endsWith("IT.java"))
                    .filter(p -> root.relativize(p).toString().contains("/src/test/java/"))
                    .filter(p -> !p.toString().contains("/target/")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void everyIntegrationTestThatUsesATestbedHoldsItsLock() {
        List<String> wrong = new ArrayList<>();
        int using = 0;
        for (Path p : integrationTests()) {
            String s;
            try {
                s = Files.readString(p);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Set<TestbedLock.Bed> uses = uses(s);
            using += uses.isEmpty() ? 0 : 1;
            Set<TestbedLock.Bed> missing = EnumSet.copyOf(uses.isEmpty() ? EnumSet.noneOf(TestbedLock.Bed.class)
                    : uses);
            missing.removeAll(locks(s, false));
            if (!missing.isEmpty()) {
                wrong.add(p + ": uses " + missing + " without @TestbedLock");
            }
            if (DISRUPTS_SSH.matcher(s).find() && !locks(s, true).contains(TestbedLock.Bed.SSH)) {
                wrong.add(p + ": stops sshd or drops its sessions, so it must hold the ssh testbed alone "
                        + "(@TestbedLock(TestbedLock.Bed.SSH), not shared)");
            }
        }
        assertThat(using).as("the scan finds the Slurm, PBS, ssh and container tests").isGreaterThan(30);
        assertThat(wrong).isEmpty();
    }

    @Test
    void theScanSeesEachTestbedAndEachLock() {
        assertThat(uses("HolderJobs.start(3)")).containsExactly(TestbedLock.Bed.SLURM);
        assertThat(uses("PbsTestJobs.hold()")).containsExactly(TestbedLock.Bed.SLURM, TestbedLock.Bed.PBS);
        assertThat(uses("SshTestbed.upWithSlurm();")).containsExactly(TestbedLock.Bed.SLURM, TestbedLock.Bed.SSH);
        assertThat(uses("run(List.of(\"squeue\", \"-h\"))")).containsExactly(TestbedLock.Bed.SLURM);
        assertThat(uses("cluster = SlurmCluster.up(); cluster.onLogin(\"squeue\")"))
                .containsExactly(TestbedLock.Bed.CONTAINERS);
        assertThat(uses("int base = leftovers.freeBase(3);")).isEmpty();
        String both = "@TestbedLock(TestbedLock.Bed.SLURM)\n@TestbedLock(value = TestbedLock.Bed.SSH, shared = true)";
        assertThat(locks(both, false)).containsExactly(TestbedLock.Bed.SLURM, TestbedLock.Bed.SSH);
        assertThat(locks(both, true)).containsExactly(TestbedLock.Bed.SLURM);
    }
}
