package io.smartsim.launch.testing;

import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.planned.Credentials;
import io.smartsim.launch.planned.Tls;
import io.smartsim.launch.spi.LaunchedShard;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.exceptions.JedisException;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a user does with a {@code --tls} orchestrator, with tools nobody here wrote: {@code redis-cli --tls --cacert}
 * and a Jedis client whose trust store holds only {@code SSDB_TLS_CA} (built here from the PEM, as docs/security.md
 * tells users to, not through our {@link Tls#socketFactory()}), and a plain-text client that must be refused.
 */
public final class TlsClients {
    private TlsClients() {
    }

    /** A socket factory trusting the certificates in {@code caPem} only. */
    public static SSLSocketFactory trusting(Path caPem) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(caPem)) {
            int i = 0;
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("ca" + i++, c);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx.getSocketFactory();
    }

    /** The subjectAltName entries of the orchestrator's server certificate, as text ("n1", "127.0.1.1"). */
    public static List<String> subjectAltNames(Tls tls) throws Exception {
        try (InputStream in = Files.newInputStream(tls.cert())) {
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            return cert.getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList();
        }
    }

    /**
     * Runs {@code redis-cli --tls --cacert CA --user U --cluster check FIRST} with the password in
     * {@code REDISCLI_AUTH}, as the README shows, and asserts it passes; returns its output.
     */
    public static String clusterCheck(Orchestrator db, Path caCert) throws Exception {
        Credentials c = db.plan().auth().orElseThrow();
        List<String> argv = new ArrayList<>(List.of("redis-cli", "--tls", "--cacert", caCert.toString(), "--user",
                c.user(), "--cluster", "check", db.shards().get(0).address()));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().put("REDISCLI_AUTH", c.password());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("redis-cli --cluster check finished").isTrue();
        assertThat(p.exitValue()).as(argv + "\n" + out).isZero();
        assertThat(out).contains("[OK] All nodes agree about slots configuration.", "[OK] All 16384 slots covered.");
        return out;
    }

    /** A Jedis cluster client over TLS trusting {@code caCert} only writes and reads {@code keys} keys. */
    public static void jedisClusterWorks(Orchestrator db, Path caCert, int keys) throws Exception {
        Set<HostAndPort> seeds = db.shards().stream().map(s -> new HostAndPort(s.host(), s.port()))
                .collect(Collectors.toSet());
        try (JedisCluster jc = new JedisCluster(seeds, tlsConfig(db, caCert))) {
            for (int i = 0; i < keys; i++) {
                jc.set("tls:" + i, "v" + i);
            }
            for (int i = 0; i < keys; i++) {
                assertThat(jc.get("tls:" + i)).isEqualTo("v" + i);
            }
            assertThat(jc.getClusterNodes()).hasSize(db.shards().size());
        }
    }

    /** The login and TLS settings of a client given SSDB_USER, SSDB_PASSWORD and SSDB_TLS_CA. */
    public static JedisClientConfig tlsConfig(Orchestrator db, Path caCert) throws Exception {
        DefaultJedisClientConfig.Builder b = DefaultJedisClientConfig.builder().ssl(true)
                .sslSocketFactory(trusting(caCert)).socketTimeoutMillis(5000);
        db.plan().auth().ifPresent(c -> b.user(c.user()).password(c.password()));
        return b.build();
    }

    /** Every shard refuses a plain-text client that has the right password, and a TLS one with another CA. */
    public static void plainAndStrangersRefused(Orchestrator db) {
        Credentials c = db.plan().auth().orElseThrow();
        for (LaunchedShard s : db.shards()) {
            assertThatThrownBy(() -> {
                try (Jedis plain = new Jedis(new HostAndPort(s.host(), s.port()), DefaultJedisClientConfig.builder()
                        .user(c.user()).password(c.password()).socketTimeoutMillis(2000).build())) {
                    plain.ping();
                }
            }).as("plain-text client on %s", s.address()).isInstanceOf(JedisException.class);
            assertThatThrownBy(() -> {
                try (Jedis stranger = new Jedis(new HostAndPort(s.host(), s.port()), DefaultJedisClientConfig
                        .builder().user(c.user()).password(c.password()).ssl(true).socketTimeoutMillis(2000).build())) {
                    stranger.ping();
                }
            }).as("TLS client trusting the JVM's CAs, not this one, on %s", s.address())
                    .isInstanceOf(JedisException.class).hasStackTraceContaining("PKIX");
        }
    }

    /** Each shard's config as seen over TLS: port 0 (no plain port), its TLS port, tls-cluster on when clustered. */
    public static void tlsOnly(Orchestrator db, Path caCert) throws Exception {
        for (LaunchedShard s : db.shards()) {
            try (Jedis j = new Jedis(new HostAndPort(s.host(), s.port()), tlsConfig(db, caCert))) {
                Map<String, String> cfg = j.configGet("*port*");
                assertThat(cfg).containsEntry("port", "0").containsEntry("tls-port", Integer.toString(s.port()));
                if (db.shards().size() > 1) {
                    assertThat(j.configGet("tls-cluster")).containsEntry("tls-cluster", "yes");
                }
            }
        }
    }

    /** Owner-only TLS files: the directory 0700, the key 0600, the CA's key gone. */
    public static void ownerOnly(Tls tls) throws Exception {
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.dir())))
                .isEqualTo("rwx------");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.key())))
                .isEqualTo("rw-------");
        assertThat(tls.dir().resolve("ca.key")).doesNotExist();
    }
}
