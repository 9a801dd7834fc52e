package io.smartsim.launch.testing;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's promise, kept: every integration test ({@code *IT.java} in every module) registers the shared
 * {@link Leftovers} check, so no server process is left and its ports are free after each of them. A plain scan of the
 * sources (every module's tests are not on one classpath, so a bytecode rule could not see them all).
 */
class EveryItChecksLeftoversTest {
    /** {@code @RegisterExtension} on a field holding {@code Leftovers.perTest()} or {@code Leftovers.perClass()}. */
    private static final Pattern REGISTERED = Pattern.compile(
            "@RegisterExtension\\s+(?:(?:static|final|private|public|protected)\\s+)*Leftovers\\s+\\w+\\s*=\\s*"
                    + "Leftovers\\.per(?:Test|Class)\\(\\)");

    static boolean checksLeftovers(String source) {
        return REGISTERED.matcher(source).find();
    }

    private static List<Path> integrationTests() {
        Path root = Path.of("").toAbsolutePath().getParent(); // this module's directory is one below the root
        assertThat(root.resolve("pom.xml")).as("the repository root above %s", Path.of("").toAbsolutePath())
                .exists();
        try (Stream<Path> files = Files.walk(root, 12)) {
            return files.filter(p -> p.getFileName().toString().endsWith("IT.java"))
                    .filter(p -> root.relativize(p).toString().contains("/src/test/java/"))
                    .filter(p -> !root.relativize(p).startsWith("target") && !p.toString().contains("/target/"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void everyIntegrationTestInEveryModuleRegistersTheLeftoverCheck() {
        List<Path> its = integrationTests();
        assertThat(its).as("the scan finds the integration tests of the launchers, the CLI and the AI modules")
                .hasSizeGreaterThan(50)
                .anyMatch(p -> p.endsWith("launcher-local/src/test/java/io/smartsim/launch/local/TlsIT.java"))
                .anyMatch(p -> p.endsWith("ai-module/src/test/java/io/smartsim/launch/ai/module/TensorWireIT.java"))
                .anyMatch(p -> p.endsWith("client/src/test/java/io/smartsim/launch/client/ClientIT.java"));
        List<String> without = its.stream().filter(p -> {
            try {
                return !checksLeftovers(Files.readString(p));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).map(Path::toString).toList();
        assertThat(without).as("integration tests without '@RegisterExtension final Leftovers leftovers = "
                + "Leftovers.perTest();' (or static ... perClass() for servers shared by the class)").isEmpty();
    }

    @Test
    void theRuleSeesARegistrationAndNothingElse() {
        assertThat(checksLeftovers("@RegisterExtension\n    final Leftovers left = Leftovers.perTest();")).isTrue();
        assertThat(checksLeftovers("@RegisterExtension static final Leftovers left = Leftovers.perClass();")).isTrue();
        assertThat(checksLeftovers("import io.smartsim.launch.testing.Leftovers; // Leftovers.perTest()")).isFalse();
        assertThat(checksLeftovers("final Leftovers leftovers = Leftovers.perTest(); // not registered")).isFalse();
        assertThat(checksLeftovers("assertThat(Processes.serversOn(ports)).isEmpty();")).isFalse();
    }
}
