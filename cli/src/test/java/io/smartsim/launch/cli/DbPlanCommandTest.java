package io.smartsim.launch.cli;

import io.smartsim.launch.spec.Backend;
import io.smartsim.launch.spec.Json;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.planned.SlotRange;
import io.smartsim.launch.planned.Credentials;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DbPlanCommandTest {
    @TempDir
    Path tmp;

    private static List<String> cells(String line) {
        return Arrays.asList(line.strip().split("\\s{2,}"));
    }

    @Test
    void plan_of_three_shards_prints_ports_bus_ports_slots_and_dirs() {
        Path exp = tmp.resolve("exp");
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", exp.toString(), "--per-node", "3", "--port", "6780");

        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.err()).isEmpty();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo("plan for orchestrator 'orchestrator' of experiment 'exp'");
        assertThat(lines.get(1)).isEqualTo("  1 node(s) x 3 per node = 3 shard(s), Redis Cluster over 16384 hash "
                + "slots; launcher local, backend redis, timeout 60 s");
        assertThat(lines.get(2)).isEqualTo("  directory: " + exp.resolve("orchestrator"));
        int header = lines.indexOf(lines.stream().filter(l -> l.startsWith("SHARD")).findFirst().orElseThrow());
        assertThat(cells(lines.get(header)))
                .containsExactly("SHARD", "NAME", "NODE", "HOST", "BIND", "PORT", "BUS PORT", "SLOTS", "WORK DIR");
        Path dir = exp.resolve("orchestrator");
        assertThat(cells(lines.get(header + 1))).containsExactly("0", "orchestrator_0", "0", "localhost", "127.0.0.1",
                "6780", "16780", "0-5461", dir.resolve("orchestrator_0").toString());
        assertThat(cells(lines.get(header + 2))).containsExactly("1", "orchestrator_1", "0", "localhost", "127.0.0.1",
                "6781", "16781", "5462-10922", dir.resolve("orchestrator_1").toString());
        assertThat(cells(lines.get(header + 3))).containsExactly("2", "orchestrator_2", "0", "localhost", "127.0.0.1",
                "6782", "16782", "10923-16383", dir.resolve("orchestrator_2").toString());

        Path conf = dir.resolve("orchestrator_0").resolve("redis.conf");
        assertThat(lines).contains("config of shard 0 (" + conf + "):", "  port 6780", "  bind 127.0.0.1",
                "  cluster-enabled yes", "  cluster-config-file nodes-6780.conf", "command of shard 0:",
                "  redis-server " + conf);
        assertThat(lines.get(lines.size() - 1)).startsWith("preflight: ");
        assertThat(exp).as("plan writes nothing").doesNotExist();
    }

    @Test
    void plan_json_parses_back_into_the_launch_plan() throws Exception {
        Path exp = tmp.resolve("exp");
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", exp.toString(), "--experiment", "demo", "--name", "db2",
                "--per-node", "3", "--max-memory", "2gb", "--eviction", "allkeys-lru", "--config", "hz 20",
                "--timeout", "30", "--json");

        assertThat(r.exit()).as(r.toString()).isZero();
        LaunchPlan plan = Json.mapper().readValue(r.out(), LaunchPlan.class);
        assertThat(plan.experiment()).isEqualTo("demo");
        assertThat(plan.id()).isEqualTo("db2");
        assertThat(plan.dir()).isEqualTo(exp.resolve("db2"));
        assertThat(plan.spec().backend()).isEqualTo(Backend.REDIS);
        assertThat(plan.spec().startupTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(plan.spec().maxMemory()).contains("2gb");
        assertThat(plan.shards()).extracting(ShardPlan::port).containsExactly(6780, 6781, 6782);
        assertThat(plan.shards()).extracting(ShardPlan::busPort).containsExactly(16780, 16781, 16782);
        assertThat(plan.shards()).extracting(ShardPlan::slots).containsExactly(
                List.of(new SlotRange(0, 5461)), List.of(new SlotRange(5462, 10922)),
                List.of(new SlotRange(10923, 16383)));
        assertThat(plan.shards().get(0).config()).contains("maxmemory 2gb\n", "maxmemory-policy allkeys-lru\n",
                "hz 20\n");
        assertThat(exp).doesNotExist();
    }

    @Test
    void plan_shows_where_the_password_goes_but_never_a_password_in_text_or_json() throws Exception {
        Path exp = tmp.resolve("exp");
        Cli.Result text = Cli.run("db", "plan", "--exp-dir", exp.toString(), "--per-node", "3");
        Cli.Result json = Cli.run("db", "plan", "--exp-dir", exp.toString(), "--per-node", "3", "--json");

        assertThat(text.out()).contains("  access: user 'smartsim' with a generated password (in the manifest, given "
                + "to models as SSDB_USER/SSDB_PASSWORD); clients without it are refused\n",
                "  protected-mode yes\n", "  user default off resetpass resetkeys resetchannels -@all\n",
                "  user smartsim on ><redacted> ~* &* +@all\n", "  masterauth <redacted>\n");
        LaunchPlan plan = Json.mapper().readValue(json.out(), LaunchPlan.class);
        assertThat(plan.auth()).contains(new Credentials("smartsim", Credentials.REDACTED));
        for (Cli.Result r : List.of(text, json)) {
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.out() + r.err()).doesNotContainPattern("[0-9a-f]{32}");
        }
        assertThat(exp).doesNotExist();
    }

    @Test
    void plan_with_no_auth_says_what_it_gives_up_and_creates_no_user() {
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", tmp.resolve("e").toString(), "--no-auth");

        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("  access: no password (--no-auth): anyone who can reach the ports can read, "
                + "change or delete the data\n").doesNotContain("user ", "masterauth");
    }

    @Test
    void plan_with_tls_turns_the_plain_port_off_and_says_where_the_certificates_go() {
        Path exp = tmp.resolve("e");
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", exp.toString(), "--tls");

        assertThat(r.exit()).as(r.toString()).isZero();
        Path tls = exp.toAbsolutePath().normalize().resolve("orchestrator").resolve("tls");
        assertThat(r.out()).contains("; TLS only (--tls), certificates made at start in " + tls
                + ", models trust the CA through SSDB_TLS_CA\n", "  port 0\n  tls-port 6780\n",
                "  tls-ca-cert-file \"" + tls.resolve("ca.crt") + "\"\n", "  tls-auth-clients no\n");
        assertThat(tls).as("plan writes nothing").doesNotExist();
    }

    @Test
    void plan_with_port_auto_shows_the_free_consecutive_ports_it_chose() {
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", tmp.resolve("e").toString(), "--per-node", "3",
                "--port", "auto");

        assertThat(r.exit()).as(r.toString()).isZero();
        List<List<String>> rows = r.out().lines().filter(l -> l.matches("[0-2] +orchestrator_.*")).map(
                DbPlanCommandTest::cells).toList();
        int first = Integer.parseInt(rows.get(0).get(5));
        assertThat(first).isGreaterThanOrEqualTo(6780);
        assertThat(rows).extracting(row -> Integer.parseInt(row.get(5))).containsExactly(first, first + 1, first + 2);
        assertThat(r.out()).contains("preflight: ok");
    }

    @Test
    void single_shard_plan_is_standalone_without_bus_port_or_slots() {
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", tmp.resolve("e").toString(), "--port", "7001");

        assertThat(r.exit()).as(r.toString()).isZero();
        String row = r.out().lines().filter(l -> l.startsWith("0 ")).findFirst().orElseThrow();
        assertThat(cells(row)).containsExactly("0", "orchestrator_0", "0", "localhost", "127.0.0.1", "7001", "-", "-",
                tmp.resolve("e").resolve("orchestrator").resolve("orchestrator_0").toString());
        assertThat(r.out()).doesNotContain("cluster-enabled");
    }

    @Test
    void experiment_name_defaults_to_the_sanitised_directory_name() throws Exception {
        Path exp = tmp.resolve("My Run #3");
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", exp.toString(), "--json");

        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(Json.mapper().readValue(r.out(), LaunchPlan.class).experiment()).isEqualTo("My-Run-3");
        assertThat(Files.exists(exp)).isFalse();
    }
}
