package io.smartsim.launch.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Invalid input exits 2 with one line naming the field and the fix; nothing is started or written. */
class BadInputTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "db {0} {1}")
    @CsvSource(delimiter = '|', value = {
            "plan  | --nodes 0                | error: nodes (--nodes): 0 is not a node count; use 1 or more",
            "start | --nodes 0                | error: nodes (--nodes): 0 is not a node count; use 1 or more",
            "plan  | --nodes 1 --per-node 2   | error: nodes/instancesPerNode (--nodes/--per-node): 1 node(s) x 2 per node = 2 shards",
            "start | --nodes 1 --per-node 2   | error: nodes/instancesPerNode (--nodes/--per-node): 1 node(s) x 2 per node = 2 shards",
            "plan  | --port 70000             | error: port (--port): 70000 is out of range",
            "start | --port 70000             | error: port (--port): 70000 is out of range",
            "plan  | --port six               | error: port (--port): 'six' is not a port; give a number such as 6780, or auto",
            "start | --port six               | error: port (--port): 'six' is not a port; give a number such as 6780, or auto",
            "start | --name USER              | error: id (--name): 'USER' is reserved: models would get its address as SSDB_USER",
            "plan  | --backend mongo          | error: backend (--backend): unknown backend 'mongo'; use one of redis, keydb",
            "start | --backend mongo          | error: backend (--backend): unknown backend 'mongo'; use one of redis, keydb",
            "plan  | --launcher nope          | error: launcher (--launcher): unknown launcher 'nope'; available here:",
            "start | --launcher nope          | error: launcher (--launcher): unknown launcher 'nope'; available here:",
            "plan  | --interface nosuch0      | error: interfaces (--interface): there is no network interface 'nosuch0'",
            "start | --interface nosuch0      | error: interfaces (--interface): there is no network interface 'nosuch0'",
            "start | --eviction sometimes     | error: evictionPolicy (--eviction): 'sometimes' is not an eviction policy",
            "start | --max-memory lots        | error: maxMemory (--max-memory): 'lots' is not a memory size",
            "start | --timeout 0              | error: startupTimeout (--timeout): PT0S is not a timeout",
            "start | --name Bad!              | error: id (--name): 'Bad!' is not a valid orchestrator id",
            "start | --experiment .hidden     | error: experiment name (--experiment): '.hidden' is not a valid name",
    })
    void invalid_values_exit_2_naming_the_field(String command, String options, String expected) {
        Path exp = tmp.resolve("exp");
        List<String> args = new ArrayList<>(List.of("db", command, "--exp-dir", exp.toString()));
        args.addAll(Arrays.asList(options.split(" ")));

        Cli.Result r = Cli.run(args.toArray(String[]::new));

        assertThat(r.exit()).as(r.toString()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith(expected);
        assertThat(r.err().lines()).as("one line, no stack trace").hasSize(1);
        assertThat(exp).as("nothing written").doesNotExist();
    }

    @Test
    void a_value_of_the_wrong_type_exits_2_with_a_usage_hint() {
        Cli.Result r = Cli.run("db", "start", "--nodes", "three");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err().lines().toList()).containsExactly(
                "error: Invalid value for option '--nodes': 'three' is not an int",
                "Try 'smartsim-launch db start --help' for usage.");
    }

    @Test
    void an_unknown_option_exits_2_and_suggests_the_near_one() {
        Cli.Result r = Cli.run("db", "plan", "--per-nod", "3");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: Unknown options: '--per-nod', '3'")
                .contains("--per-node")
                .endsWith("Try 'smartsim-launch db plan --help' for usage.\n");
    }

    @Test
    void a_missing_command_exits_2() {
        assertThat(Cli.run().exit()).isEqualTo(2);
        Cli.Result db = Cli.run("db");
        assertThat(db.exit()).isEqualTo(2);
        assertThat(db.err()).startsWith("error: missing subcommand: choose plan, start, status, stop, cleanup, env or renew\n");
    }

    @Test
    void verbose_adds_the_stack_trace() {
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", tmp.toString(), "--nodes", "0", "--verbose");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: nodes (--nodes):").contains("InvalidSpecException", "\tat ");
    }
}
