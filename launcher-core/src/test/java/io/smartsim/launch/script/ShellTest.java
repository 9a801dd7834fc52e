package io.smartsim.launch.script;


import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ShellTest {
    @Test
    void plainWordsStayBareEverythingElseIsSingleQuotedOnce() {
        assertThat(Shell.quote("redis-server")).isEqualTo("redis-server");
        assertThat(Shell.quote("/exp/db_0/redis.conf")).isEqualTo("/exp/db_0/redis.conf");
        assertThat(Shell.quote("")).isEqualTo("''");
        assertThat(Shell.quote("a b")).isEqualTo("'a b'");
        assertThat(Shell.quote("$HOME")).isEqualTo("'$HOME'");
        assertThat(Shell.quote("it's")).isEqualTo("'it'\"'\"'s'");
        assertThat(Shell.quote("a;rm -rf /")).isEqualTo("'a;rm -rf /'");
        assertThat(Shell.quote("x\ny")).isEqualTo("'x\ny'");
        assertThat(Shell.quote("*")).isEqualTo("'*'");
    }

    @Test
    void commandWithoutEnvironmentIsTheQuotedArgv() {
        assertThat(Shell.command(List.of("squeue", "--me", "-o", "%i %T"), Map.of()))
                .isEqualTo("squeue --me -o '%i %T'");
    }

    @Test
    void environmentGoesInsideTheCommandSortedAndQuoted() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SLURM_TIME_FORMAT", "standard");
        env.put("A", "two words");
        assertThat(Shell.command(List.of("sacct", "-j", "12"), env))
                .isEqualTo("env 'A=two words' SLURM_TIME_FORMAT=standard sacct -j 12");
    }

    @Test
    void refusesWhatEnvWouldMisread() {
        assertThatThrownBy(() -> Shell.command(List.of("true"), Map.of("1BAD", "x")))
                .hasMessageContaining("'1BAD' is not an environment variable name");
        assertThatThrownBy(() -> Shell.command(List.of("A=b"), Map.of("X", "y")))
                .hasMessageContaining("has '='");
        assertThatThrownBy(() -> Shell.command(List.of(), Map.of())).hasMessageContaining("empty argv");
    }
}
