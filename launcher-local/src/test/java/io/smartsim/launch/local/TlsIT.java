package io.smartsim.launch.local;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.status.OrchestratorStatus;
import io.smartsim.launch.cluster.Ping;
import io.smartsim.launch.planned.Access;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.planned.Tls;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.testing.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.exceptions.JedisException;

import javax.net.ssl.SSLSocket;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code --tls} against real redis-server processes: TLS clients with the CA get in, plain-text ones do not. */
class TlsIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;
    private final List<Integer> usedPorts = new ArrayList<>();

    private int ports(int count) {
        int base = leftovers.freeBase(count);
        usedPorts.addAll(Processes.range(base, count));
        return base;
    }

    private static String perms(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    /** What a TLS server does with plain text: closes the connection, resets it, or sends a TLS alert record. */
    private static final Set<String> REFUSALS = Set.of("closed", "reset", "TLS alert");

    /**
     * A plain-text PING to a port that must speak TLS: first a TLS handshake with the orchestrator's CA must succeed
     * there (so something listens and it is TLS), then the plain PING must meet a refusal ({@link #REFUSALS}), never
     * a Redis reply. A refused connection or a silent server is not "no plain answer": it fails, naming what happened.
     */
    private static String plainPing(int port, Tls tls) throws Exception {
        try (SSLSocket s = (SSLSocket) tls.socketFactory().createSocket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(5000);
            s.startHandshake(); // throws unless a TLS server with a certificate of this CA answers
        } catch (java.net.ConnectException e) {
            throw new AssertionError("nothing listens on 127.0.0.1:" + port + " (" + e.getMessage() + ")", e);
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            byte[] buf = new byte[64];
            int n = in.read(buf);
            return n < 0 ? "closed" : buf[0] == 0x15 ? "TLS alert" : new String(buf, 0, n, StandardCharsets.ISO_8859_1);
        } catch (java.net.SocketTimeoutException e) {
            throw new AssertionError("127.0.0.1:" + port + " neither answered nor refused a plain PING in 5 s", e);
        } catch (java.net.SocketException e) {
            if (e instanceof java.net.ConnectException) {
                throw new AssertionError("127.0.0.1:" + port + " refused the plain connection", e);
            }
            return "reset";
        }
    }

    @Test
    void tlsClientsWithTheCaGetInPlainOnesAreRefusedAndRedisCliChecksTheCluster() throws Exception {
        int base = ports(3);
        try (Experiment exp = Experiment.create("tls", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().instancesPerNode(3).port(base)
                    .tls(true).build());
            exp.start(db);
            Credentials c = db.plan().auth().orElseThrow();
            Tls tls = db.plan().tls().orElseThrow();

            // The files: a 0700 directory, the key 0600, the CA's key gone once it has signed.
            assertThat(tls.dir()).isEqualTo(db.plan().dir().resolve("tls"));
            assertThat(perms(tls.dir())).isEqualTo("rwx------");
            assertThat(perms(tls.key())).isEqualTo("rw-------");
            assertThat(tls.dir().resolve("ca.key")).doesNotExist();
            X509Certificate cert;
            try (InputStream in = Files.newInputStream(tls.cert())) {
                cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            }
            assertThat(cert.getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList())
                    .contains("127.0.0.1", "localhost");
            assertThat(cert.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");

            // redis-cli over TLS with the CA only (no client certificate), the password from the environment.
            ProcessBuilder pb = new ProcessBuilder("redis-cli", "--tls", "--cacert", tls.caCert().toString(),
                    "--user", c.user(), "--cluster", "check", "127.0.0.1:" + base).redirectErrorStream(true);
            pb.environment().put("REDISCLI_AUTH", c.password());
            Process cli = pb.start();
            String out = new String(cli.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(cli.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(cli.exitValue()).as(out).isZero();
            assertThat(out).contains("[OK] All nodes agree about slots configuration.",
                    "[OK] All 16384 slots covered.");

            // A TLS cluster client that trusts the CA reads and writes on every shard.
            JedisClientConfig config = DefaultJedisClientConfig.builder().user(c.user()).password(c.password())
                    .ssl(true).sslSocketFactory(tls.socketFactory()).build();
            try (JedisCluster jc = new JedisCluster(Set.of(new HostAndPort("127.0.0.1", base)), config)) {
                for (int i = 0; i < 100; i++) {
                    jc.set("k" + i, "v" + i);
                }
                assertThat(jc.get("k99")).isEqualTo("v99");
                assertThat(jc.getClusterNodes()).hasSize(3);
            }

            Access access = db.plan().access();
            for (int port = base; port < base + 3; port++) {
                try (Jedis j = new Jedis(new HostAndPort("127.0.0.1", port), config)) {
                    assertThat(j.configGet("port")).containsEntry("port", "0");
                    assertThat(j.configGet("tls-port")).containsEntry("tls-port", Integer.toString(port));
                    assertThat(j.configGet("tls-cluster")).containsEntry("tls-cluster", "yes");
                    assertThat(j.dbSize()).isPositive();
                }
                // Plain text gets no answer: not on the client port, not on the cluster bus.
                int p = port;
                assertThatThrownBy(() -> {
                    try (Jedis plain = new Jedis(new HostAndPort("127.0.0.1", p), DefaultJedisClientConfig.builder()
                            .user(c.user()).password(c.password()).socketTimeoutMillis(2000).build())) {
                        plain.ping();
                    }
                }).as("plain client on %d", p).isInstanceOf(JedisException.class);
                assertThat(plainPing(port, tls)).as("plain PING on %d", port).isIn(REFUSALS);
                assertThat(plainPing(port + OrchestratorSpec.BUS_PORT_OFFSET, tls)).as("plain PING on the bus")
                        .isIn(REFUSALS);
                assertThat(Ping.pong("127.0.0.1", port, 1000, Access.of(Optional.of(c)))).as("plain PING + AUTH")
                        .isFalse();
                assertThat(Ping.pong("127.0.0.1", port, 1000, access)).as("TLS PING + AUTH").isTrue();
                assertThat(Ping.answers("127.0.0.1", port, 1000, access)).isTrue();
            }
            // A TLS client that does not trust this CA (the JVM's default CAs) is refused in the handshake.
            assertThatThrownBy(() -> {
                try (Jedis stranger = new Jedis(new HostAndPort("127.0.0.1", base), DefaultJedisClientConfig.builder()
                        .user(c.user()).password(c.password()).ssl(true).build())) {
                    stranger.ping();
                }
            }).isInstanceOf(JedisException.class).hasStackTraceContaining("PKIX");

            // Models (and db env) get the CA beside SSDB.
            assertThat(exp.dbEnv()).containsEntry("SSDB_TLS_CA", tls.caCert().toString())
                    .containsEntry("SSDB_USER", "smartsim");

            // Status and stop from the manifest speak TLS too, as a later process would.
            Experiment later = Experiment.reconnect(dir);
            OrchestratorStatus st = later.status(db.id());
            assertThat(st.state()).as(st.toString()).isEqualTo("RUNNING");
            later.stop(later.orchestrator(db.id()));
            // SHUTDOWN was accepted over TLS: each shard shut down (Redis logs "User requested shutdown" for a
            // signal too) and not on the SIGTERM that follows the grace ("Received SIGTERM").
            for (var s : db.plan().shards()) {
                assertThat(Files.readString(s.logPath())).as("log of shard %d", s.index())
                        .contains("User requested shutdown").doesNotContain("Received SIG");
            }
            assertThat(Processes.serversOn(usedPorts)).isEmpty();
            for (int port = base; port < base + 3; port++) {
                assertThat(Processes.free("127.0.0.1", port)).isTrue();
                assertThat(Processes.free("127.0.0.1", port + OrchestratorSpec.BUS_PORT_OFFSET)).isTrue();
            }
        }
    }

    @Test
    void aStandaloneShardWithoutAPasswordStillSpeaksTlsOnly() throws Exception {
        int port = ports(1);
        try (Experiment exp = Experiment.create("tls1", dir)) {
            Orchestrator db = exp.createOrchestrator(OrchestratorSpec.builder().port(port).auth(false).tls(true)
                    .build());
            exp.start(db);
            Tls tls = db.plan().tls().orElseThrow();
            try (Jedis j = new Jedis(new HostAndPort("127.0.0.1", port), DefaultJedisClientConfig.builder().ssl(true)
                    .sslSocketFactory(tls.socketFactory()).build())) {
                assertThat(j.set("k", "v")).isEqualTo("OK");
                assertThat(j.get("k")).isEqualTo("v");
            }
            assertThat(plainPing(port, tls)).isIn(REFUSALS);
            int unused = leftovers.freeBase(1);
            assertThatThrownBy(() -> plainPing(unused, tls)).as("a port nothing listens on is no refusal")
                    .hasMessageContaining("nothing listens on 127.0.0.1:" + unused);
            assertThat(Ping.pong("127.0.0.1", port, 1000)).isFalse();
            assertThat(Ping.pong("127.0.0.1", port, 1000, db.plan().access())).isTrue();
            exp.stop(db);
            assertThat(Processes.serversOn(usedPorts)).isEmpty();
        }
    }
}
