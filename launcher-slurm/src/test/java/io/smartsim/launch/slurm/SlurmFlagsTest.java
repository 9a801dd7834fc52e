package io.smartsim.launch.slurm;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.batch.BatchFlags;
import io.smartsim.launch.spi.LauncherFlags;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Slurm module's CLI flags: registered, parsed into the keys {@link SlurmOptions} reads, checked there. */
class SlurmFlagsTest {
    /** The options the flags give, parsed as the CLI parses them: the batch flags and Slurm's own on one command. */
    private static Map<String, String> parse(String... args) {
        BatchFlags batch = new BatchFlags();
        SlurmFlags slurm = new SlurmFlags();
        CommandSpec spec = CommandSpec.create();
        spec.addMixin("batch", CommandSpec.forAnnotatedObject(batch));
        spec.addMixin("slurm", CommandSpec.forAnnotatedObject(slurm));
        new CommandLine(spec).parseArgs(args);
        Map<String, String> out = new LinkedHashMap<>(batch.launcherOptions());
        out.putAll(slurm.launcherOptions());
        return out;
    }

    @Test
    void theModuleRegistersTheBatchFlagsAndItsOwn() {
        List<String> found = ServiceLoader.load(LauncherFlags.class).stream().map(p -> p.type().getName()).toList();
        assertThat(found).contains(BatchFlags.class.getName(), SlurmFlags.class.getName());
    }

    @Test
    void everyFlagSetsAKeySlurmOptionsTakesAndTheBatchOnesAreBatchKeys() {
        assertThat(SlurmOptions.KEYS).containsAll(new SlurmFlags().flags().keySet())
                .containsAll(new BatchFlags().flags().keySet());
        assertThat(new SlurmFlags().batchKeys()).containsExactlyInAnyOrder("partition", "qos", "constraint", "sbatch");
    }

    @Test
    void flagsGivenBecomeTheTypedOptions() {
        SlurmOptions o = SlurmOptions.parse(parse("--batch", "--time", "00:10:00", "--account", "proj",
                "--partition", "debug", "--qos", "low", "--constraint", "gpu", "--sbatch=--mem=4G",
                "--sbatch=--exclusive"));
        assertThat(o).isEqualTo(new SlurmOptions(Optional.empty(), true, Optional.of("00:10:00"), Optional.of("proj"),
                Optional.of("debug"), Optional.of("low"), Optional.of("gpu"), List.of("--mem=4G", "--exclusive")));
        assertThat(parse()).as("nothing given, nothing set").isEmpty();
        assertThat(SlurmOptions.parse(parse("--alloc", "1234")).alloc()).contains("1234");
    }

    @Test
    void aBadValueIsRefusedOnTheKeyItsFlagSets() {
        assertThatThrownBy(() -> SlurmOptions.parse(parse("--batch", "--partition", "a b")))
                .isInstanceOfSatisfying(InvalidSpecException.class,
                        e -> assertThat(new SlurmFlags().flags().get(e.field().replace("launcherOptions.", "")))
                                .isEqualTo("--partition"))
                .hasMessageContaining("'a b' cannot be an #SBATCH value");
        assertThatThrownBy(() -> SlurmOptions.parse(parse("--alloc", "abc")))
                .isInstanceOfSatisfying(InvalidSpecException.class,
                        e -> assertThat(new BatchFlags().flags().get(e.field().replace("launcherOptions.", "")))
                                .isEqualTo("--alloc"))
                .hasMessageContaining("'abc' is not a Slurm job id");
        assertThatThrownBy(() -> SlurmOptions.parse(parse("--partition", "debug")))
                .hasMessageContaining("[partition] only apply to a batch job; add batch=true");
    }
}
