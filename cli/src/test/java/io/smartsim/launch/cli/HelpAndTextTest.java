package io.smartsim.launch.cli;

import io.smartsim.launch.planned.SlotRange;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HelpAndTextTest {
    @Test
    void top_level_help_documents_the_exit_codes() {
        Cli.Result r = Cli.run("--help");

        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Commands:", "  db ", "  doctor ", "Exit codes:",
                "  0   Success.", "  1   Failed, or not healthy", "  2   Bad usage");
    }

    @Test
    void version_names_the_build() {
        Cli.Result r = Cli.run("--version");

        assertThat(r.exit()).isZero();
        assertThat(r.out()).startsWith("smartsim-launch 0.1.0-SNAPSHOT\n");
    }

    @Test
    void table_aligns_columns_and_trims_trailing_space() {
        String t = Text.table("  ", List.of("A", "LONG HEADER", "C"), List.of(List.of("123", "x", ""),
                List.of("4", "yy", "z")));

        assertThat(t).isEqualTo("""
                  A    LONG HEADER  C
                  123  x
                  4    yy           z
                """);
    }

    @Test
    void sizes_use_binary_units_with_one_decimal() {
        assertThat(Text.bytes(0)).isEqualTo("0 B");
        assertThat(Text.bytes(1023)).isEqualTo("1023 B");
        assertThat(Text.bytes(1536)).isEqualTo("1.5 KiB");
        assertThat(Text.bytes(1_661_648)).isEqualTo("1.6 MiB");
        assertThat(Text.bytes(3L << 30)).isEqualTo("3.0 GiB");
    }

    @Test
    void argv_is_shown_as_a_shell_would_read_it_back() {
        assertThat(Text.argv(List.of("redis-server", "/tmp/my exp/redis.conf", "it's")))
                .isEqualTo("redis-server '/tmp/my exp/redis.conf' 'it'\\''s'");
        assertThat(Text.slots(List.of(new SlotRange(0, 10), new SlotRange(20, 20)))).isEqualTo("0-10,20");
        assertThat(Text.slots(List.of())).isEqualTo("-");
    }

    @Test
    void experiment_names_come_from_the_directory() {
        assertThat(ExperimentOptions.fromDir(Path.of("/data/exp"))).isEqualTo("exp");
        assertThat(ExperimentOptions.fromDir(Path.of("/data/my run (2)"))).isEqualTo("my-run-2-");
        assertThat(ExperimentOptions.fromDir(Path.of("/data/.hidden"))).isEqualTo("hidden");
        assertThat(ExperimentOptions.fromDir(Path.of("/"))).isEqualTo("experiment");
    }
}
