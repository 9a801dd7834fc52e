package io.smartsim.launch.pbs;

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

/** The PBS module's CLI flags: registered, parsed into the keys {@link PbsOptions} reads, checked there. */
class PbsFlagsTest {
    private static Map<String, String> parse(String... args) {
        BatchFlags batch = new BatchFlags();
        PbsFlags pbs = new PbsFlags();
        CommandSpec spec = CommandSpec.create();
        spec.addMixin("batch", CommandSpec.forAnnotatedObject(batch));
        spec.addMixin("pbs", CommandSpec.forAnnotatedObject(pbs));
        new CommandLine(spec).parseArgs(args);
        Map<String, String> out = new LinkedHashMap<>(batch.launcherOptions());
        out.putAll(pbs.launcherOptions());
        return out;
    }

    @Test
    void theModuleRegistersTheBatchFlagsAndItsOwn() {
        List<String> found = ServiceLoader.load(LauncherFlags.class).stream().map(p -> p.type().getName()).toList();
        assertThat(found).contains(BatchFlags.class.getName(), PbsFlags.class.getName());
    }

    @Test
    void everyFlagSetsAKeyPbsOptionsTakes() {
        assertThat(PbsOptions.KEYS).containsAll(new PbsFlags().flags().keySet())
                .containsAll(new BatchFlags().flags().keySet());
        assertThat(new PbsFlags().batchKeys()).containsExactlyInAnyOrder("queue", "pbs");
    }

    @Test
    void flagsGivenBecomeTheTypedOptions() {
        PbsOptions o = PbsOptions.parse(parse("--batch", "--time", "01:30:00", "--account", "proj", "--queue",
                "workq", "--pbs-dialect", "torque", "--run-command", "mpiexec", "--pbs=-l mem=4gb"));
        assertThat(o).isEqualTo(new PbsOptions(Optional.empty(), true, Optional.of("01:30:00"), Optional.of("proj"),
                Optional.of("workq"), Optional.of(Dialect.TORQUE), Optional.of(RunCommand.MPIEXEC),
                List.of("-l mem=4gb"), Optional.empty()));
        assertThat(PbsOptions.parse(parse("--pbs-dialect", "auto")).dialect()).isEmpty();
    }

    @Test
    void aBadDialectIsRefusedOnTheKeyOfPbsDialectWithTheFix() {
        assertThatThrownBy(() -> PbsOptions.parse(parse("--batch", "--pbs-dialect", "openpbs")))
                .isInstanceOfSatisfying(InvalidSpecException.class, e -> {
                    assertThat(e.field()).isEqualTo("launcherOptions.dialect");
                    assertThat(new PbsFlags().flags()).containsEntry("dialect", "--pbs-dialect");
                })
                .hasMessage("launcherOptions.dialect: 'openpbs' is not a PBS dialect; use pro (PBS Professional, "
                        + "OpenPBS), torque, or auto (detect from qstat --version)");
        assertThatThrownBy(() -> PbsOptions.parse(parse("--run-command", "srun")))
                .hasMessage("launcherOptions.runCommand: 'srun' is not a run command; use auto, mpiexec, pbsdsh or ssh");
        assertThatThrownBy(() -> PbsOptions.parse(parse("--batch", "--time", "90 min")))
                .hasMessageContaining("launcherOptions.time");
    }
}
