package io.smartsim.launch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The shaded jar and the bin/ wrapper as users run them. */
class CliJarIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    private static final Path WRAPPER = Path.of(System.getProperty("smartsim.launch.wrapper",
            "../bin/smartsim-launch"));

    @TempDir
    Path tmp;

    private JarRunner jar;

    @BeforeEach
    void setUp() {
        assumeTrue(Files.isRegularFile(JarRunner.JAR), "run through 'mvn verify': needs " + JarRunner.JAR);
        jar = new JarRunner(tmp);
    }

    @Test
    void the_shaded_jar_finds_the_launchers_through_the_service_loader() throws Exception {
        JarRunner.Result r = jar.cli("doctor", "--json");

        assertThat(r.err()).isEmpty();
        JsonNode report = Json.mapper().readTree(r.out());
        assertThat(report.get("launchers").toString()).contains("\"local\"");
        assertThat(r.exit()).isEqualTo(report.get("ready").asBoolean() ? 0 : 1);
    }

    @Test
    void bad_usage_exits_2_without_a_stack_trace() throws Exception {
        JarRunner.Result r = jar.cli("db", "plan", "--exp-dir", tmp.resolve("e").toString(), "--port", "70000");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: port (--port): 70000 is out of range").doesNotContain("\tat ");
    }

    @Test
    void the_wrapper_runs_the_jar_next_to_it() throws Exception {
        JarRunner.Result r = jar.run(List.of(WRAPPER.toString(), "--version"), Duration.ofSeconds(60));

        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.outLines().get(0)).startsWith("smartsim-launch ");
    }

    @Test
    void the_wrapper_says_how_to_build_a_missing_jar() throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("checkout/bin"));
        Path copy = Files.copy(WRAPPER, bin.resolve("smartsim-launch"), StandardCopyOption.COPY_ATTRIBUTES);

        JarRunner.Result r = jar.run(List.of(copy.toString(), "--version"), Duration.ofSeconds(30));

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("smartsim-launch.jar is missing; build it first:", "mvn -q -DskipTests package");
    }

    /**
     * The wrapper's class-data archive (issue 14.6): made on first use next to the jar, mapped by the next start, and
     * never in the way: options set by the user mean no archive, and an archive that does not fit is ignored silently
     * (stdout must stay parseable: {@code eval "$(smartsim-launch db env)"}).
     */
    @Test
    void the_wrapper_archives_the_jars_classes_on_first_use_and_a_bad_archive_changes_nothing() throws Exception {
        Path wrapper = checkout();
        Path target = wrapper.resolveSibling("../cli/target").normalize();

        JarRunner.Result own = jar.run(List.of("env", "SMARTSIM_LAUNCH_JAVA_OPTS=-Xshare:auto", wrapper.toString(),
                "--version"), Duration.ofSeconds(120));
        assertThat(own.exit()).as(own.toString()).isZero();
        assertThat(archives(target)).as("no archive with the user's own options").isEmpty();

        JarRunner.Result first = jar.run(List.of(wrapper.toString(), "--version"), Duration.ofSeconds(180));
        assertThat(first.exit()).as(first.toString()).isZero();
        assertThat(first.outLines().get(0)).startsWith("smartsim-launch ");
        assertThat(first.err()).isEmpty();
        List<Path> made = archives(target);
        assertThat(made).hasSize(1);
        assertThat(Files.size(made.get(0))).isPositive();

        Path log = tmp.resolve("class-load.log");
        JarRunner.Result second = jar.run(List.of("env", "JAVA_TOOL_OPTIONS=-Xlog:class+load:file=" + log,
                wrapper.toString(), "--version"), Duration.ofSeconds(120));
        assertThat(second.exit()).as(second.toString()).isZero();
        assertThat(second.out()).isEqualTo(first.out());
        assertThat(Files.readString(log)).as("classes of the jar, picocli's Java 5 ones too, mapped from the archive")
                .containsPattern("io\\.smartsim\\.launch\\.cli\\.Main source: shared objects file")
                .containsPattern("picocli\\.CommandLine source: shared objects file");

        Files.delete(made.get(0));
        Files.writeString(made.get(0), "not an archive");
        JarRunner.Result bad = jar.run(List.of(wrapper.toString(), "--version"), Duration.ofSeconds(120));
        assertThat(bad.exit()).as(bad.toString()).isZero();
        assertThat(bad.out()).isEqualTo(first.out());
        assertThat(bad.err()).isEmpty();
    }

    /**
     * The start layer (issue 14.6): a dynamic archive of what a real {@code db start} runs beyond the base's training,
     * recorded as the first start that succeeds exits and taken as the layer by the next run, then mapped over the base.
     * A start that starts nothing ({@code --help}) is not kept, and stdout stays as it was.
     */
    @Test
    void the_first_start_that_succeeds_records_a_layer_over_the_archive_and_later_runs_map_it() throws Exception {
        Path wrapper = checkout();
        Path target = wrapper.resolveSibling("../cli/target").normalize();
        Duration bound = Duration.ofSeconds(180);

        JarRunner.Result help = jar.run(List.of(wrapper.toString(), "db", "start", "--help"), bound);
        assertThat(help.exit()).as(help.toString()).isZero();
        JarRunner.Result after = jar.run(List.of(wrapper.toString(), "--version"), bound);
        assertThat(after.exit()).as(after.toString()).isZero();
        assertThat(names(target)).as("the base only: a --help is not a start to learn from").hasSize(1)
                .allMatch(n -> n.matches("smartsim-launch-[0-9-]+\\.jsa"));

        Path exp = tmp.resolve("exp");
        JarRunner.Result start = jar.run(List.of(wrapper.toString(), "db", "start", "--per-node", "1", "--port",
                "auto", "--exp-dir", exp.toString()), bound);
        assertThat(start.exit()).as(start.toString()).isZero();
        assertThat(start.outLines().get(start.outLines().size() - 1)).startsWith("SSDB=127.0.0.1:");
        JarRunner.Result stop = jar.run(List.of(wrapper.toString(), "db", "stop", "--exp-dir", exp.toString()), bound);
        assertThat(stop.exit()).as(stop.toString()).isZero();
        List<String> made = names(target);
        assertThat(made).as("the base and the layer, no recording left").hasSize(2)
                .anyMatch(n -> n.matches("smartsim-launch-[0-9-]+\\.start\\.jsa"));

        Path log = tmp.resolve("class-load.log");
        JarRunner.Result next = jar.run(List.of("env", "JAVA_TOOL_OPTIONS=-Xlog:class+load:file=" + log,
                wrapper.toString(), "--version"), bound);
        assertThat(next.exit()).as(next.toString()).isZero();
        assertThat(next.out()).isEqualTo(after.out());
        assertThat(Files.readString(log)).as("classes mapped from the layer")
                .contains("source: shared objects file (top)");
        assertThat(names(target)).isEqualTo(made);
    }

    /** The wrapper and the jar copied into a checkout of their own under the test's directory; the wrapper's path. */
    private Path checkout() throws java.io.IOException {
        Path bin = Files.createDirectories(tmp.resolve("checkout/bin"));
        Path target = Files.createDirectories(tmp.resolve("checkout/cli/target"));
        Files.copy(JarRunner.JAR, target.resolve("smartsim-launch.jar"));
        return Files.copy(WRAPPER, bin.resolve("smartsim-launch"), StandardCopyOption.COPY_ATTRIBUTES);
    }

    private static List<String> names(Path dir) throws java.io.IOException {
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> !n.equals("smartsim-launch.jar")).sorted()
                    .toList();
        }
    }

    private static List<Path> archives(Path dir) throws java.io.IOException {
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jsa")).toList();
        }
    }
}
