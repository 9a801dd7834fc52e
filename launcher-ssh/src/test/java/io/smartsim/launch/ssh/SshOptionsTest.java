package io.smartsim.launch.ssh;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SshOptionsTest {
    @Test
    void hostsAndFlagsAreRead() {
        SshOptions o = SshOptions.parse(Map.of("hosts", "a, b,c", "ssh-user", "ada", "ssh-port", "2222",
                "accept-new-host-key", "true"));
        assertThat(o.hosts()).containsExactly("a", "b", "c");
        assertThat(o.flags().user()).contains("ada");
        assertThat(o.flags().port()).contains(2222);
        assertThat(o.flags().acceptNewHostKey()).isTrue();
        // Recorded with each shard for db status/stop; accepting new keys is never carried over.
        assertThat(o.recorded()).containsOnlyKeys("ssh-user", "ssh-port");
    }

    @Test
    void badOptionsAreNamed() {
        assertThatThrownBy(() -> SshOptions.parse(Map.of("hosts", "a", "alloc", "12")))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("does not know [alloc]");
        assertThatThrownBy(() -> SshOptions.parse(Map.of())).hasMessageContaining("launcherOptions.hosts: no hosts");
        assertThatThrownBy(() -> SshOptions.parse(Map.of("hosts", "a", "ssh-port", "0")))
                .hasMessageContaining("launcherOptions.ssh-port: '0' is not a port");
        assertThatThrownBy(() -> SshOptions.parse(Map.of("hosts", "a", "identity", "/no/such/key")))
                .hasMessageContaining("/no/such/key is not a file");
        assertThatThrownBy(() -> SshOptions.parse(Map.of("hosts", "a", "accept-new-host-key", "yes")))
                .hasMessageContaining("'yes' is not true or false");
    }

    @Test
    void nodesMustMatchTheNumberOfHostsNamingBoth() {
        OrchestratorSpec spec = OrchestratorSpec.builder().launcher("ssh").nodes(1).instancesPerNode(1)
                .launcherOption("hosts", "127.0.1.1,127.0.1.2,127.0.1.3").build();
        assertThatThrownBy(() -> new SshLauncher().place(spec)).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("--nodes is 1 and --hosts names 3 host(s) (127.0.1.1,127.0.1.2,127.0.1.3)");
    }

    @Test
    void placementBindsEachNodeToItsHostsAddress() {
        OrchestratorSpec spec = OrchestratorSpec.builder().launcher("ssh").nodes(3).instancesPerNode(2)
                .launcherOption("hosts", "127.0.1.1,127.0.1.2,127.0.1.3")
                .launcherOption("ssh-config", "/dev/null").build();
        var nodes = new SshLauncher().place(spec).nodes();
        assertThat(nodes).extracting(n -> n.host()).containsExactly("127.0.1.1", "127.0.1.2", "127.0.1.3");
        assertThat(nodes.get(1).bindAddresses()).containsExactly("127.0.1.2");
    }
}
