package io.smartsim.launch.security;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TlsGeneratorTest {
    @Test
    void loopbackAddsEveryLoopbackNameAndDuplicatesAreDropped() {
        assertThat(TlsGenerator.subjectAltName(List.of("localhost", "127.0.0.1", "localhost", "127.0.0.1")))
                .isEqualTo("DNS:localhost,IP:127.0.0.1,IP:::1");
    }

    @Test
    void hostsAreDnsEntriesAndAddressesIpEntries() {
        assertThat(TlsGenerator.subjectAltName(List.of("n1", "10.0.0.5", "n2.cluster.example", "fe80::1")))
                .isEqualTo("DNS:n1,IP:10.0.0.5,DNS:n2.cluster.example,IP:fe80::1");
    }

    @Test
    void namesThatCouldBreakTheOpensslArgumentAreLeftOut() {
        assertThat(TlsGenerator.subjectAltName(List.of("a,IP:1.2.3.4", "", "ok-host")))
                .isEqualTo("DNS:ok-host");
        assertThat(TlsGenerator.subjectAltName(List.of())).isEqualTo("DNS:localhost");
    }
}
