package io.smartsim.launch.examples;

import io.smartsim.launch.examples.Model.Database;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import redis.clients.jedis.HostAndPort;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How the model reads its environment; none of these needs a database. */
class ModelTest {
    private static final String EXAMPLE = "for example SSDB=127.0.0.1:6780,127.0.0.1:6781,127.0.0.1:6782";

    private static Map<String, String> env(String ssdb, String type) {
        Map<String, String> env = new HashMap<>();
        if (ssdb != null) {
            env.put("SSDB", ssdb);
        }
        if (type != null) {
            env.put("SR_DB_TYPE", type);
        }
        return env;
    }

    @Test
    void threeAddressesWithoutTypeAreClustered() {
        assertThat(Database.fromEnv(env("127.0.0.1:6780,127.0.0.1:6781,127.0.0.1:6782", null))).isEqualTo(
                new Database(List.of(new HostAndPort("127.0.0.1", 6780), new HostAndPort("127.0.0.1", 6781),
                        new HostAndPort("127.0.0.1", 6782)), true));
    }

    @Test
    void userAndPasswordComeFromSsdbUserAndSsdbPasswordAndNeverShowInToString() {
        Map<String, String> env = env("db1:6780", null);
        env.put("SSDB_USER", "smartsim");
        env.put("SSDB_PASSWORD", "0123456789abcdef0123456789abcdef");
        Database db = Database.fromEnv(env);
        assertThat(db.user()).contains("smartsim");
        assertThat(db.password()).contains("0123456789abcdef0123456789abcdef");
        assertThat(db.toString()).doesNotContain("0123456789abcdef");
    }

    @Test
    void aUserWithoutAPasswordIsAnEnvironmentError() {
        Map<String, String> env = env("db1:6780", null);
        env.put("SSDB_USER", "smartsim");
        assertThatThrownBy(() -> Database.fromEnv(env)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SSDB_USER is set but SSDB_PASSWORD is not; the launcher sets both, or neither for a "
                        + "database without a password");
    }

    @Test
    void oneAddressWithoutTypeIsStandalone() {
        assertThat(Database.fromEnv(env("db1:6780", null)))
                .isEqualTo(new Database(List.of(new HostAndPort("db1", 6780)), false));
    }

    @Test
    void oneAddressMarkedClusteredIsASeedForTheCluster() {
        assertThat(Database.fromEnv(env("10.0.0.5:6780", "Clustered")))
                .isEqualTo(new Database(List.of(new HostAndPort("10.0.0.5", 6780)), true));
    }

    @Test
    void bracketedIpv6IsAccepted() {
        assertThat(Database.fromEnv(env("[::1]:6780", "Standalone")))
                .isEqualTo(new Database(List.of(new HostAndPort("::1", 6780)), false));
    }

    @ParameterizedTest(name = "SSDB=''{0}''")
    @CsvSource(delimiter = '|', value = {
        "localhost           | SSDB entry 1 of 1 ('localhost') is not host:port; " + EXAMPLE,
        "localhost:          | SSDB entry 1 of 1 ('localhost:') is not host:port; " + EXAMPLE,
        ":6780               | SSDB entry 1 of 1 (':6780') is not host:port; " + EXAMPLE,
        "'a:1,,b:2'          | SSDB entry 2 of 3 ('') is not host:port; " + EXAMPLE,
        "'a:1,'              | SSDB entry 2 of 2 ('') is not host:port; " + EXAMPLE,
        "host:http           | SSDB entry 1 of 1 ('host:http') has no numeric port; " + EXAMPLE,
        "host:0              | SSDB entry 1 of 1 ('host:0') has port 0, outside 1-65535",
        "host:70000          | SSDB entry 1 of 1 ('host:70000') has port 70000, outside 1-65535",
        "'a:1, b:2'          | SSDB entry 2 of 2 (' b:2') contains spaces; separate addresses with ',' only",
        "::1:6780            | SSDB entry 1 of 1 ('::1:6780') has no usable host (IPv6 goes in brackets: [::1]:6780); "
                + EXAMPLE,
    })
    void malformedSsdbIsRejectedNamingTheEntry(String ssdb, String message) {
        assertThatThrownBy(() -> Database.fromEnv(env(ssdb, null)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }

    @Test
    void missingSsdbSaysWhatItShouldHold() {
        String message = "SSDB is not set: the launcher puts the database addresses there; " + EXAMPLE;
        assertThatThrownBy(() -> Database.fromEnv(env(null, "Clustered"))).hasMessage(message);
        assertThatThrownBy(() -> Database.fromEnv(env("  ", null))).hasMessage(message);
    }

    @Test
    void unknownDbTypeIsRejected() {
        assertThatThrownBy(() -> Database.fromEnv(env("h:1", "clustered")))
                .hasMessage("SR_DB_TYPE='clustered' is neither Clustered nor Standalone");
    }

    @Test
    void standaloneWithSeveralAddressesIsRejectedNotTruncated() {
        assertThatThrownBy(() -> Database.fromEnv(env("a:1,b:2,c:3", "Standalone")))
                .hasMessage("SR_DB_TYPE=Standalone but SSDB lists 3 addresses (a:1,b:2,c:3); a standalone database "
                        + "has exactly one");
    }

    @Test
    void badEnvironmentExitsWithUsageCodeAndMessage() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Model.run(new String[0], Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(Model.USAGE);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(String.join(System.lineSeparator(),
                "model: SSDB is not set: the launcher puts the database addresses there; " + EXAMPLE,
                Model.USAGE_LINE, ""));
    }

    @Test
    void badKeyCountExitsWithUsageCode() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Model.run(new String[] {"--keys", "0"}, env("h:1", null),
                new PrintStream(OutputStream.nullOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(Model.USAGE);
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(String.join(System.lineSeparator(),
                "model: --keys '0' is not a positive whole number", Model.USAGE_LINE, ""));
    }

    @Test
    void ssdbTlsCaIsTheCaToTrust() {
        Map<String, String> env = env("db1:6780", null);
        env.put("SSDB_TLS_CA", "/exp/db/tls/ca.crt");
        assertThat(Database.fromEnv(env).tlsCa()).contains(java.nio.file.Path.of("/exp/db/tls/ca.crt"));
        assertThat(Database.fromEnv(env("db1:6780", null)).tlsCa()).isEmpty();
    }

    @Test
    void anUnreadableTlsCaExitsWithUsageCodeNamingIt() {
        Map<String, String> env = env("127.0.0.1:1", "Standalone");
        env.put("SSDB_TLS_CA", "/nonexistent/ca.crt");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Model.run(new String[0], env, new PrintStream(OutputStream.nullOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(Model.USAGE);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("model: SSDB_TLS_CA=/nonexistent/ca.crt is not a "
                + "readable CA certificate (PEM): ");
    }
}
