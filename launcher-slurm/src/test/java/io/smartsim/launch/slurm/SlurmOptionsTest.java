package io.smartsim.launch.slurm;

import io.smartsim.launch.error.InvalidSpecException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SlurmOptionsTest {

    @Test
    void defaultsMeanTheCurrentAllocation() {
        SlurmOptions o = SlurmOptions.parse(Map.of());
        assertThat(o.batch()).isFalse();
        assertThat(o.alloc()).isEmpty();
        assertThat(o.directives()).isEmpty();
    }

    @Test
    void batchDirectivesInAFixedOrder() {
        SlurmOptions o = SlurmOptions.parse(Map.of("batch", "true", "sbatch", "--mem=4G\n\n--exclusive",
                "account", "p1", "time", "1:00:00"));
        assertThat(o.directives()).containsExactly("--time=1:00:00", "--account=p1", "--mem=4G", "--exclusive");
    }

    @Test
    void rejectsWhatWouldBeSilentlyWrong() {
        assertThatThrownBy(() -> SlurmOptions.parse(Map.of("acount", "x"))).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("[acount]");
        assertThatThrownBy(() -> SlurmOptions.parse(Map.of("account", "x"))).hasMessageContaining("batch=true");
        assertThatThrownBy(() -> SlurmOptions.parse(Map.of("alloc", "12a"))).hasMessageContaining("not a Slurm job id");
        assertThatThrownBy(() -> SlurmOptions.parse(Map.of("alloc", "12", "batch", "true")))
                .hasMessageContaining("not both");
        assertThatThrownBy(() -> SlurmOptions.parse(Map.of("batch", "true", "partition", "a b")))
                .hasMessageContaining("launcherOptions.partition");
        assertThatThrownBy(() -> SlurmOptions.parse(Map.of("batch", "true", "sbatch", "mem=4G")))
                .hasMessageContaining("--mem=4G");
        assertThatThrownBy(() -> SlurmOptions.parse(Map.of("batch", "yes"))).hasMessageContaining("true or false");
    }

    @Test
    void recordChecksToo() {
        assertThatThrownBy(() -> new SlurmOptions(Optional.empty(), true, Optional.of("1:00 "), Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty(), List.of())).hasMessageContaining("time");
    }
}
