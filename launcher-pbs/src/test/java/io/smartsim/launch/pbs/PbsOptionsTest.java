package io.smartsim.launch.pbs;

import io.smartsim.launch.error.InvalidSpecException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PbsOptionsTest {

    @Test
    void everyOption() {
        PbsOptions o = PbsOptions.parse(Map.of("batch", "true", "time", "01:00:00", "account", "proj", "queue",
                "debug", "dialect", "torque", "runCommand", "ssh", "pbs", "-l mem=4gb\n\n-m n",
                "sshConfig", "/tb/ssh_config"));
        assertThat(o).isEqualTo(new PbsOptions(Optional.empty(), true, Optional.of("01:00:00"), Optional.of("proj"),
                Optional.of("debug"), Optional.of(Dialect.TORQUE), Optional.of(RunCommand.SSH),
                List.of("-l mem=4gb", "-m n"), Optional.of(Path.of("/tb/ssh_config"))));
    }

    @Test
    void autoIsTheDefault() {
        PbsOptions o = PbsOptions.parse(Map.of("alloc", "13.vm", "dialect", "auto", "runCommand", "auto"));
        assertThat(o.dialect()).isEmpty();
        assertThat(o.runCommand()).isEmpty();
        assertThat(o.alloc()).contains("13.vm");
    }

    @Test
    void mistakesNameTheField() {
        assertThatThrownBy(() -> PbsOptions.parse(Map.of("partition", "x")))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("does not know [partition]");
        assertThatThrownBy(() -> PbsOptions.parse(Map.of("queue", "debug")))
                .hasMessageContaining("[queue] only apply to a batch job");
        assertThatThrownBy(() -> PbsOptions.parse(Map.of("batch", "true", "time", "1h")))
                .hasMessageContaining("not a PBS walltime");
        assertThatThrownBy(() -> PbsOptions.parse(Map.of("dialect", "lsf"))).hasMessageContaining("pro");
        assertThatThrownBy(() -> PbsOptions.parse(Map.of("runCommand", "srun"))).hasMessageContaining("pbsdsh");
        assertThatThrownBy(() -> PbsOptions.parse(Map.of("alloc", "abc"))).hasMessageContaining("not a PBS job id");
        assertThatThrownBy(() -> PbsOptions.parse(Map.of("batch", "true", "alloc", "1")))
                .hasMessageContaining("not both");
        assertThatThrownBy(() -> PbsOptions.parse(Map.of("batch", "true", "pbs", "#PBS -l mem=1gb")))
                .hasMessageContaining("without '#PBS'");
        assertThatThrownBy(() -> PbsOptions.parse(Map.of("batch", "true", "account", "a b")))
                .hasMessageContaining("one word");
        assertThatThrownBy(() -> PbsOptions.parse(Map.of("runCommand", "mpiexec", "sshConfig", "/x")))
                .hasMessageContaining("only applies to runCommand=ssh");
    }
}
