package io.smartsim.launch.spec;

import io.smartsim.launch.entity.DbEnv;
import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.planned.Credentials;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Parameter grids, ;name; substitution, the database variables and run-settings checks: pure functions. */
class ParamGridAndTagsTest {
    private static Map<String, List<String>> grid() {
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("a", List.of("1", "2"));
        p.put("b", List.of("x", "y", "z"));
        return p;
    }

    @Test
    void allPermIsTheProductWithTheFirstParameterSlowest() {
        assertThat(ParamGrid.expand(grid(), Strategy.ALL_PERM, Optional.empty(), Optional.empty()))
                .containsExactly(Map.of("a", "1", "b", "x"), Map.of("a", "1", "b", "y"), Map.of("a", "1", "b", "z"),
                        Map.of("a", "2", "b", "x"), Map.of("a", "2", "b", "y"), Map.of("a", "2", "b", "z"));
    }

    @Test
    void stepZipsEquallyLongListsAndNamesTheLengthsOtherwise() {
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("a", List.of("1", "2"));
        p.put("b", List.of("x", "y"));
        assertThat(ParamGrid.expand(p, Strategy.STEP, Optional.empty(), Optional.empty()))
                .containsExactly(Map.of("a", "1", "b", "x"), Map.of("a", "2", "b", "y"));
        assertThatThrownBy(() -> ParamGrid.expand(grid(), Strategy.STEP, Optional.empty(), Optional.empty()))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessage("params: step takes the i-th value of every list, so the lists must be equally long, "
                        + "but a has 2, b has 3; make them equal or use all_perm");
    }

    @Test
    void randomDrawsDistinctCombinationsRepeatablyFromItsSeed() {
        List<Map<String, String>> first = ParamGrid.expand(grid(), Strategy.RANDOM, Optional.of(4), Optional.of(42L));
        assertThat(first).hasSize(4).doesNotHaveDuplicates();
        assertThat(ParamGrid.expand(grid(), Strategy.RANDOM, Optional.of(4), Optional.of(42L))).isEqualTo(first);
        assertThat(ParamGrid.expand(grid(), Strategy.RANDOM, Optional.of(6), Optional.of(1L)))
                .containsExactlyInAnyOrderElementsOf(ParamGrid.expand(grid(), Strategy.ALL_PERM, Optional.empty(),
                        Optional.empty()));
        assertThatThrownBy(() -> ParamGrid.expand(grid(), Strategy.RANDOM, Optional.of(7), Optional.of(1L)))
                .hasMessage("samples: 7 distinct members cannot be drawn from a (2) x b (3) = 6 combinations; use 1 "
                        + "to 6");
        assertThatThrownBy(() -> ParamGrid.expand(grid(), Strategy.ALL_PERM, Optional.of(2), Optional.empty()))
                .hasMessage("samples: only the random strategy takes samples and seed, but the strategy is all_perm");
    }

    @Test
    void tagsAreReplacedAndAnUnknownOneIsAnErrorNotLeftInPlace() {
        assertThat(Tags.substitute("--alpha=;alpha; ;alpha;;beta;", Map.of("alpha", "0.1", "beta", "b"), "args"))
                .isEqualTo("--alpha=0.1 0.1b");
        assertThat(Tags.substitute("a;b;c", Map.of(), "args")).as("no parameters: text as given").isEqualTo("a;b;c");
        assertThatThrownBy(() -> Tags.substitute(";alpah;", Map.of("alpha", "1", "beta", "2"), "args (sim)"))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessage("args (sim): ';alpah;' names no parameter; the parameters are alpha, beta");
        assertThat(Tags.substitute("$1 \\ ;a;", Map.of("a", "$2\\"), "x")).isEqualTo("$1 \\ $2\\");
    }

    @Test
    void theFirstDatabaseIsSsdbAndEachOtherOneCarriesItsId() {
        assertThat(DbEnv.variables(List.of(new DbEnv.Database("db", "127.0.0.1:6780,127.0.0.1:6781,127.0.0.1:6782",
                "Clustered"), new DbEnv.Database("cache", "127.0.0.1:6790", "Standalone"))))
                .containsExactly(Map.entry("SSDB", "127.0.0.1:6780,127.0.0.1:6781,127.0.0.1:6782"),
                        Map.entry("SR_DB_TYPE", "Clustered"), Map.entry("SSDB_cache", "127.0.0.1:6790"),
                        Map.entry("SR_DB_TYPE_cache", "Standalone"));
        assertThat(DbEnv.variables(List.of())).isEmpty();
    }

    @Test
    void aTlsDatabaseGivesItsCaBesideTheCredentialsSuffixedForEachOtherOne() {
        Credentials c = new Credentials("smartsim", "0123456789abcdef0123456789abcdef");
        assertThat(DbEnv.variables(List.of(
                new DbEnv.Database("db", "127.0.0.1:6780", "Standalone", Optional.of(c),
                        Optional.of(Path.of("/e/db/tls/ca.crt"))),
                new DbEnv.Database("c2", "127.0.0.1:6790", "Standalone", Optional.empty(),
                        Optional.of(Path.of("/e/c2/tls/ca.crt"))))))
                .containsExactly(Map.entry("SSDB", "127.0.0.1:6780"), Map.entry("SR_DB_TYPE", "Standalone"),
                        Map.entry("SSDB_USER", "smartsim"), Map.entry("SSDB_PASSWORD", c.password()),
                        Map.entry("SSDB_TLS_CA", "/e/db/tls/ca.crt"), Map.entry("SSDB_c2", "127.0.0.1:6790"),
                        Map.entry("SR_DB_TYPE_c2", "Standalone"), Map.entry("SSDB_TLS_CA_c2", "/e/c2/tls/ca.crt"));
    }

    @Test
    void runSettingsSayTheNumbers() {
        assertThat(RunSettings.builder().nodes(2).tasksPerNode(4).build().totalTasks()).isEqualTo(8);
        assertThat(RunSettings.builder().nodes(2).tasks(7).tasksPerNode(4).build().totalTasks()).isEqualTo(7);
        assertThatThrownBy(() -> RunSettings.builder().nodes(3).tasks(4).tasksPerNode(4).build())
                .hasMessage("run.tasks: 4 tasks do not fit 3 node(s) x 4 per node = 12 task slots with every node "
                        + "used; give only one of tasks and tasksPerNode, or make them agree");
        assertThatThrownBy(() -> RunSettings.builder().nodes(0).build())
                .hasMessage("run.nodes: 0 is not a node count; use 1 or more");
        assertThat(BatchSettings.parseClock("t", "01:30:00")).hasSeconds(5400);
        assertThat(BatchSettings.clock(java.time.Duration.ofSeconds(90061))).isEqualTo("25:01:01");
        assertThatThrownBy(() -> BatchSettings.parseClock("run.batch.time", "1h"))
                .hasMessage("run.batch.time: '1h' is not a walltime; use HH:MM:SS (for example 01:30:00), MM:SS or "
                        + "seconds");
    }
}
