package io.smartsim.launch.ssh;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.exec.Transports;
import io.smartsim.launch.spi.LauncherFlags;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The ssh module's CLI flags: registered, parsed into the keys {@link SshOptions} and the transport read. */
class SshLauncherFlagsTest {
    private static Map<String, String> parse(String... args) {
        SshLauncherFlags launcher = new SshLauncherFlags();
        SshTransportFlags transport = new SshTransportFlags();
        CommandSpec spec = CommandSpec.create();
        spec.addMixin("ssh", CommandSpec.forAnnotatedObject(launcher));
        spec.addMixin("transport", CommandSpec.forAnnotatedObject(transport));
        new CommandLine(spec).parseArgs(args);
        Map<String, String> out = new LinkedHashMap<>(launcher.launcherOptions());
        out.putAll(transport.launcherOptions());
        return out;
    }

    @Test
    void theModuleRegistersItsFlags() {
        List<String> found = ServiceLoader.load(LauncherFlags.class).stream().map(p -> p.type().getName()).toList();
        assertThat(found).contains(SshLauncherFlags.class.getName(), SshTransportFlags.class.getName());
    }

    @Test
    void everyFlagSetsAKeyTheLauncherOrTheTransportTakes() {
        assertThat(SshOptions.KEYS).containsAll(new SshLauncherFlags().flags().keySet());
        assertThat(Transports.optionKeys()).containsAll(new SshTransportFlags().flags().keySet());
    }

    @Test
    void flagsGivenBecomeTheTypedOptions() {
        SshOptions o = SshOptions.parse(parse("--hosts", "a,b", "--ssh-user", "ada", "--ssh-port", "2222",
                "--accept-new-host-key"));
        assertThat(o.hosts()).containsExactly("a", "b");
        assertThat(o.flags().user()).contains("ada");
        assertThat(o.flags().port()).contains(2222);
        assertThat(o.flags().acceptNewHostKey()).isTrue();
        assertThat(parse("--identity", "rel/key")).as("recorded absolute: a later db stop may run elsewhere")
                .containsEntry("identity", Path.of("rel/key").toAbsolutePath().toString());
        assertThat(parse("--remote", "me@login")).isEqualTo(Map.of("remote", "me@login"));
    }

    @Test
    void aBadValueIsRefusedOnTheKeyItsFlagSets() {
        assertThatThrownBy(() -> SshOptions.parse(parse("--hosts", "a", "--ssh-port", "0")))
                .isInstanceOfSatisfying(InvalidSpecException.class, e -> assertThat(new SshTransportFlags().flags()
                        .get(e.field().replace("launcherOptions.", ""))).isEqualTo("--ssh-port"))
                .hasMessageContaining("'0' is not a port");
    }
}
