package io.smartsim.launch.ssh;

import io.smartsim.launch.error.InvalidSpecException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Resolution as OpenSSH reads a config: first value wins, globals first, patterns and negation, tokens. */
class SshConfigResolverTest {
    private static final Path HOME = Path.of("/home/ada");
    private static final String CONFIG = """
            # a user's ~/.ssh/config
            ServerAliveInterval 30

            Host login1 lg1
                HostName login1.cluster.example.org
                User ada_l
                Port 2200
                IdentityFile ~/.ssh/cluster_ed25519
                IdentityFile %d/.ssh/backup_%r_%h

            Host *.example.org !bastion.example.org
                User ada_x
                IdentitiesOnly yes

            Host node?
                HostName 10.1.0.%h
                UserKnownHostsFile ~/.ssh/known_hosts.cluster /etc/ssh/other

            Host *
                User ada_default
                Port 22
            """;

    private final SshConfigResolver resolver = new SshConfigResolver(CONFIG, HOME, "ada");

    @Test
    void aliasTakesHostNameUserPortAndKeysFromItsBlockFirstValueWinning() {
        SshTarget t = resolver.resolve("login1", SshFlags.none());
        assertThat(t.alias()).isEqualTo("login1");
        assertThat(t.hostName()).isEqualTo("login1.cluster.example.org");
        assertThat(t.user()).isEqualTo("ada_l");   // not "ada_default" from Host *: the first value obtained wins
        assertThat(t.port()).isEqualTo(2200);
        assertThat(t.identities()).containsExactly(Path.of("/home/ada/.ssh/cluster_ed25519"),
                Path.of("/home/ada/.ssh/backup_ada_l_login1.cluster.example.org"));
        assertThat(t.knownHosts()).isEqualTo(Path.of("/home/ada/.ssh/known_hosts"));
        assertThat(t.useAgent()).isTrue();
        assertThat(t.acceptNewHostKey()).isFalse();
        assertThat(t.connectTimeout()).isEqualTo(SshConfigResolver.DEFAULT_CONNECT_TIMEOUT);
        assertThat(t.where()).isEqualTo("ada_l@login1.cluster.example.org:2200");
        assertThat(t.knownHostsName()).isEqualTo("[login1.cluster.example.org]:2200");
    }

    @Test
    void patternsMatchTheTypedNameAndNegationExcludes() {
        SshTarget data = resolver.resolve("data.example.org", SshFlags.none());
        assertThat(data.user()).isEqualTo("ada_x");
        assertThat(data.useAgent()).isFalse(); // IdentitiesOnly yes
        assertThat(data.port()).isEqualTo(22);
        SshTarget bastion = resolver.resolve("bastion.example.org", SshFlags.none());
        assertThat(bastion.user()).isEqualTo("ada_default");
        assertThat(bastion.useAgent()).isTrue();
    }

    @Test
    void hostNameTokenAndFirstUserKnownHostsFile() {
        SshTarget t = resolver.resolve("node3", SshFlags.none());
        assertThat(t.hostName()).isEqualTo("10.1.0.node3");
        assertThat(t.knownHosts()).isEqualTo(Path.of("/home/ada/.ssh/known_hosts.cluster"));
    }

    @Test
    void withoutIdentityFileOpenSshsDefaultKeysAreTried() {
        SshTarget t = new SshConfigResolver("", HOME, "ada").resolve("plain-host", SshFlags.none());
        assertThat(t.hostName()).isEqualTo("plain-host");
        assertThat(t.user()).isEqualTo("ada");
        assertThat(t.port()).isEqualTo(22);
        assertThat(t.identities()).containsExactly(Path.of("/home/ada/.ssh/id_rsa"), Path.of("/home/ada/.ssh/id_ecdsa"),
                Path.of("/home/ada/.ssh/id_ed25519"));
    }

    @Test
    void flagsOverrideTheFileAndTheDestinationOverridesFlags() {
        SshFlags flags = new SshFlags(Optional.of("flaguser"), Optional.of(2222), Optional.of(Path.of("/keys/k1")),
                Optional.empty(), Optional.of(Path.of("/tmp/kh")), true, Optional.of(Duration.ofSeconds(3)));
        SshTarget t = resolver.resolve("login1", flags);
        assertThat(t.hostName()).isEqualTo("login1.cluster.example.org");
        assertThat(t.user()).isEqualTo("flaguser");
        assertThat(t.port()).isEqualTo(2222);
        assertThat(t.identities()).containsExactly(Path.of("/keys/k1"));
        assertThat(t.useAgent()).isFalse(); // an explicit --identity is the only key offered
        assertThat(t.knownHosts()).isEqualTo(Path.of("/tmp/kh"));
        assertThat(t.acceptNewHostKey()).isTrue();
        assertThat(t.connectTimeout()).isEqualTo(Duration.ofSeconds(3));

        SshTarget d = resolver.resolve("root@login1:2022", flags);
        assertThat(d.user()).isEqualTo("root");
        assertThat(d.port()).isEqualTo(2022);
        assertThat(d.alias()).isEqualTo("login1");
    }

    @Test
    void destinationsParseAndBadOnesAreNamed() {
        assertThat(SshConfigResolver.Destination.parse("h")).isEqualTo(
                new SshConfigResolver.Destination(Optional.empty(), "h", Optional.empty()));
        assertThat(SshConfigResolver.Destination.parse("u@10.0.0.1:22")).isEqualTo(
                new SshConfigResolver.Destination(Optional.of("u"), "10.0.0.1", Optional.of(22)));
        assertThat(SshConfigResolver.Destination.parse("[fe80::1]:2222").host()).isEqualTo("fe80::1");
        assertThat(SshConfigResolver.Destination.parse("fe80::1").port()).isEmpty();
        for (String bad : List.of("", "a b", "@h", "u@", "h:0", "h:x")) {
            assertThatThrownBy(() -> SshConfigResolver.Destination.parse(bad)).isInstanceOf(InvalidSpecException.class)
                    .hasMessageContaining("launcherOptions.hosts");
        }
    }
}
