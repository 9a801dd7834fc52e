package io.smartsim.launch.cli;

import io.smartsim.launch.InvalidSpecException;
import io.smartsim.launch.OrchestratorSpec;
import io.smartsim.launch.spi.Launchers;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** --tls is refused, while planning, by every launcher it has not been proven with. */
class TlsLaunchersTest {
    @ParameterizedTest
    @ValueSource(strings = {"pbs"})
    void tlsIsRefusedByLaunchersOtherThanLocal(String launcher) {
        OrchestratorSpec spec = OrchestratorSpec.builder().launcher(launcher).nodes(3).tls(true).build();
        assertThatThrownBy(() -> Launchers.find(launcher).place(spec)).isInstanceOf(InvalidSpecException.class)
                .hasMessage("tls: --tls is not supported with the " + launcher + " launcher yet (only local); start "
                        + "without --tls, and keep the password (auth is on by default)");
    }
}
