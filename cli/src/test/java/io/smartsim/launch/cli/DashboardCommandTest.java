package io.smartsim.launch.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code dashboard}'s bad input: named, with the fix, as a usage error; nothing is left listening. */
class DashboardCommandTest {
    @TempDir
    Path dir;

    @Test
    void isListedInTheHelp() {
        Cli.Result r = Cli.run("--help");
        assertThat(r.out()).contains("  dashboard ");
    }

    @Test
    void anUnknownBindAddressIsAUsageErrorNamingIt() {
        Cli.Result r = Cli.run("dashboard", "--exp-dir", dir.toString(), "--bind", "no-such-host.invalid");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--bind no-such-host.invalid: unknown address");
    }

    @Test
    void anExperimentDirectoryWithoutAManifestIsNamed() {
        Cli.Result r = Cli.run("dashboard", "--exp-dir", dir.toString(), "--port", "0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("no manifest in " + dir.toAbsolutePath().normalize(), "check --exp-dir");
    }

    @Test
    void aNonPositiveIntervalIsAUsageErrorNamingIt() {
        // The dashboard module takes the interval as a Duration (the CLI no longer builds core's TelemetryOptions):
        // its refusal is a usage error like any other bad value, not an unexpected exception (exit 1) as before.
        Cli.Result r = Cli.run("dashboard", "--exp-dir", dir.toString(), "--port", "0", "--interval", "0s");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("telemetry interval must be positive", "give a duration such as 5s")
                .doesNotContain("unexpected");
    }
}
