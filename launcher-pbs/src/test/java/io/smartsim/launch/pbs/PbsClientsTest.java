package io.smartsim.launch.pbs;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How PBS's stop and cleanup recognise this machine's run-command clients by their executable: any command string a
 * process can report, "/" included. Before, a process reporting "/" (seen under load beside running containers) made
 * {@code db cleanup} fail with a NullPointerException (Path.of("/").getFileName() is null): issue 21's record, run 1.
 */
class PbsClientsTest {
    @Test
    void theRunCommandIsTheExecutablesLastPathElementAndAnyStringIsTaken() {
        assertThat(PbsLauncher.runs("/usr/bin/ssh", "ssh")).isTrue();
        assertThat(PbsLauncher.runs("ssh", "ssh")).isTrue();
        assertThat(PbsLauncher.runs("/opt/pbs/bin/pbsdsh", "pbsdsh")).isTrue();
        assertThat(PbsLauncher.runs("/usr/bin/sshd", "ssh")).isFalse();
        assertThat(PbsLauncher.runs("/usr/bin/ssh", "")).isFalse();
        assertThat(PbsLauncher.runs("/", "ssh")).isFalse();
        assertThat(PbsLauncher.runs("", "ssh")).isFalse();
        assertThat(PbsLauncher.runs("/usr/bin/", "ssh")).isFalse();
    }
}
