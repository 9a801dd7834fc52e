package io.smartsim.launch.pbs;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Golden argv for every command the launcher runs. */
class PbsCommandsTest {
    private static final Path WRAPPER = Path.of("/exp/db/db_0/db_0.pbs.sh");

    @Test
    void runCommands() {
        assertThat(PbsCommands.runShard(RunCommand.PBSDSH, "n2", "4", WRAPPER, Optional.empty()))
                .containsExactly("pbsdsh", "-n", "4", "--", "bash", "/exp/db/db_0/db_0.pbs.sh", "n2");
        assertThat(PbsCommands.runShard(RunCommand.MPIEXEC, "n2", "4", WRAPPER, Optional.empty()))
                .containsExactly("mpiexec", "-n", "1", "-host", "n2", "bash", "/exp/db/db_0/db_0.pbs.sh", "n2");
        assertThat(PbsCommands.runShard(RunCommand.SSH, "n2", "", WRAPPER, Optional.empty()))
                .containsExactly("ssh", "-o", "BatchMode=yes", "n2", "exec bash /exp/db/db_0/db_0.pbs.sh n2 end-with-ssh");
    }

    @Test
    void sshQuotesTheRemoteCommandOnceAndTakesAConfig() {
        assertThat(PbsCommands.runShard(RunCommand.SSH, "n1", "", Path.of("/my exp/db_0.pbs.sh"),
                Optional.of(Path.of("/tb/ssh_config"))))
                .containsExactly("ssh", "-F", "/tb/ssh_config", "-o", "BatchMode=yes", "n1",
                        "exec bash '/my exp/db_0.pbs.sh' n1 end-with-ssh");
        assertThat(PbsCommands.sshKill(Optional.empty(), "n3", 4242))
                .containsExactly("ssh", "-o", "BatchMode=yes", "n3", "kill 4242");
    }

    @Test
    void qstatOneQueryPerDialect() {
        assertThat(PbsCommands.qstat(Dialect.PRO, List.of("13.vm")))
                .containsExactly("qstat", "-f", "-F", "json", "-x", "13.vm");
        // OpenPBS 23.06 prints only the first of several ids with -F json: ask for all jobs instead.
        assertThat(PbsCommands.qstat(Dialect.PRO, List.of("13.vm", "14.vm")))
                .containsExactly("qstat", "-f", "-F", "json", "-x");
        assertThat(PbsCommands.qstat(Dialect.TORQUE, List.of("101", "102"))).containsExactly("qstat", "-f", "101", "102");
    }

    @Test
    void submitAndDelete() {
        assertThat(PbsCommands.qsub(Path.of("/exp/db/db.pbs"), Path.of("/exp/db/db.pbs.out")))
                .containsExactly("qsub", "-j", "oe", "-o", "/exp/db/db.pbs.out", "/exp/db/db.pbs");
        assertThat(PbsCommands.qdel(List.of("13.vm", "14.vm"))).containsExactly("qdel", "13.vm", "14.vm");
        assertThat(PbsCommands.version()).containsExactly("qstat", "--version");
        assertThat(PbsCommands.which(List.of("pbsdsh", "ssh"))).containsExactly("which", "pbsdsh", "ssh");
    }
}
