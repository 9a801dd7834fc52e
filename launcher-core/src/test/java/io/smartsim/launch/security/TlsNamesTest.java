package io.smartsim.launch.security;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TlsNamesTest {
    private static final Map<String, List<String>> HOSTS = Map.of("n1", List.of("127.0.1.1"),
            "n2", List.of("10.0.0.2", "fd00::2"));

    @Test
    void nodeNamesAddWhatThisMachineResolvesThemTo() {
        assertThat(TlsNames.of(List.of("n1", "n2", "n1"), n -> HOSTS.getOrDefault(n, List.of())))
                .containsExactly("n1", "127.0.1.1", "n2", "10.0.0.2", "fd00::2");
    }

    @Test
    void addressesAreNotResolvedAndUnknownNamesStay() {
        assertThat(TlsNames.of(List.of("10.1.1.1", "::1", "n9"), n -> {
            if (!n.equals("n9")) {
                throw new AssertionError("resolved an address: " + n);
            }
            return List.of();
        })).containsExactly("10.1.1.1", "::1", "n9");
    }

    @Test
    void batchJobPlaceholdersAreLeftOut() {
        assertThat(TlsNames.of(List.of("batch-node-0", "batch-node-12"), n -> List.of("1.2.3.4"))).isEmpty();
    }

    @Test
    void theTestbedNodeNamesResolveHere() {
        // On the testbed (testbeds/slurm: /etc/hosts maps n1 to 127.0.1.1) and on any machine: localhost.
        assertThat(TlsNames.of(List.of("localhost"))).contains("localhost", "127.0.0.1");
    }
}
