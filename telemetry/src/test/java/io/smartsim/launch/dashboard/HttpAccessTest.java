package io.smartsim.launch.dashboard;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HttpAccessTest {
    @Test
    void loopbackNeedsNoTokenAnyOtherAddressGetsOne() {
        assertThat(HttpAccess.forBind("127.0.0.1").token()).isEmpty();
        assertThat(HttpAccess.forBind("::1").token()).isEmpty();
        assertThat(HttpAccess.forBind("0.0.0.0").token()).hasValueSatisfying(t -> assertThat(t).hasSize(32));
        assertThat(HttpAccess.forBind("0.0.0.0").token()).isNotEqualTo(HttpAccess.forBind("0.0.0.0").token());
    }

    @Test
    void anotherAddressWithoutATokenIsRefusedNamingTheFix() {
        assertThatThrownBy(() -> new HttpAccess("0.0.0.0", Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--bind 0.0.0.0 is not a loopback address")
                .hasMessageContaining("token is required");
        assertThatThrownBy(() -> HttpAccess.forBind("no-such-host.invalid"))
                .hasMessageContaining("--bind no-such-host.invalid: unknown address");
    }
}
