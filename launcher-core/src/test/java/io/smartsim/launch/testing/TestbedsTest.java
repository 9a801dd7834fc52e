package io.smartsim.launch.testing;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** When the testbed ITs skip (and say why) and when they go on to use the testbed, which then must work. */
class TestbedsTest {
    private static final Predicate<String> ALL = n -> true;
    private static final Predicate<String> NONE = n -> false;

    @Test
    void slurmIsSkippedWhenDeclinedOrNotInstalledOtherwiseUsed() {
        assertThat(Testbeds.slurmSkip(Map.of("SKIP_SLURM", "1"), ALL)).contains("SKIP_SLURM=1: the Slurm testbed "
                + "was declined");
        assertThat(Testbeds.slurmSkip(Map.of(), NONE)).hasValueSatisfying(r -> assertThat(r).startsWith(
                "no sinfo on PATH"));
        assertThat(Testbeds.slurmSkip(Map.of("SKIP_SLURM", "0"), ALL)).isEmpty();
        assertThat(Testbeds.slurmSkip(Map.of("SKIP_SSH", "1"), ALL)).isEmpty();
    }

    @Test
    void pbsIsSkippedWhenSlurmIsDeclinedItsToolsAreMissingOrThisIsNotRoot() {
        assertThat(Testbeds.pbsSkip(Map.of("SKIP_SLURM", "1"), ALL, 0)).hasValueSatisfying(r -> assertThat(r)
                .startsWith("SKIP_SLURM=1: the PBS testbed"));
        assertThat(Testbeds.pbsSkip(Map.of(), Set.of("sinfo")::contains, 0)).hasValueSatisfying(r -> assertThat(r)
                .startsWith("no qsub/sinfo on PATH"));
        assertThat(Testbeds.pbsSkip(Map.of(), Set.of("qsub")::contains, 0)).hasValueSatisfying(r -> assertThat(r)
                .startsWith("no qsub/sinfo on PATH"));
        // Under sudo-less ./run-tests, or any user's mvn verify: testbeds/pbs/up would stop with "must run as root".
        assertThat(Testbeds.pbsSkip(Map.of(), ALL, 1000)).hasValueSatisfying(r -> assertThat(r)
                .startsWith("not root (uid 1000): ").contains("testbeds/pbs/up must run as root"));
        assertThat(Testbeds.pbsSkip(Map.of(), ALL, 0)).isEmpty();
    }

    @Test
    void sshIsSkippedWhenDeclinedOrWhenSshdIsMissingAndCannotBeInstalled() {
        assertThat(Testbeds.sshSkip(Map.of("SKIP_SSH", "1"), true, 0)).contains("SKIP_SSH=1: the ssh testbed was "
                + "declined");
        assertThat(Testbeds.sshSkip(Map.of(), false, 1000)).hasValueSatisfying(r -> assertThat(r)
                .startsWith("no /usr/sbin/sshd and not root (uid 1000)"));
        assertThat(Testbeds.sshSkip(Map.of(), false, 0)).as("root: testbeds/ssh/up installs it").isEmpty();
        assertThat(Testbeds.sshSkip(Map.of(), true, 1000)).as("sshd runs as any user").isEmpty();
        assertThat(Testbeds.sshSkip(Map.of("SKIP_SLURM", "1"), true, 0)).isEmpty();
    }

    @Test
    void theUidIsThisProcesss() throws Exception {
        Process id = new ProcessBuilder("id", "-u").start();
        String uid = new String(id.getInputStream().readAllBytes()).strip();
        assertThat(id.waitFor()).isZero();
        assertThat(Testbeds.uid()).isEqualTo(Integer.parseInt(uid));
    }
}
