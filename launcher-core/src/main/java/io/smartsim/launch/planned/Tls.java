package io.smartsim.launch.planned;

import io.smartsim.launch.error.LaunchException;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The TLS files of one orchestrator started with {@code --tls}, in {@code <orchestrator dir>/tls} (0700): a CA made
 * for this orchestrator alone ({@code ca.crt}) and the certificate every shard presents ({@code server.crt}, its key
 * {@code server.key}, 0600), to clients and, on the cluster bus, to the other shards. The internal
 * {@code security.TlsGenerator} writes them at each start. Clients trust {@code ca.crt} only: models get its path as
 * {@code SSDB_TLS_CA}.
 *
 * @param dir the directory holding the files
 */
public record Tls(Path dir) {
    /** The name of the directory under the orchestrator's. */
    public static final String DIR = "tls";

    /** One trust factory per CA file version: built once, shared by every control connection. */
    private static final Map<String, SSLSocketFactory> FACTORIES = new ConcurrentHashMap<>();

    public Tls {
        if (dir == null) {
            throw new IllegalArgumentException("the TLS directory is missing");
        }
    }

    /** The TLS files of the orchestrator whose directory is {@code orchestratorDir}. */
    public static Tls of(Path orchestratorDir) {
        return new Tls(orchestratorDir.resolve(DIR));
    }

    /** The CA certificate (PEM): what clients trust. */
    public Path caCert() {
        return dir.resolve("ca.crt");
    }

    /** The shards' certificate (PEM), signed by {@link #caCert()}. */
    public Path cert() {
        return dir.resolve("server.crt");
    }

    /** The shards' private key (PEM, 0600). */
    public Path key() {
        return dir.resolve("server.key");
    }

    /**
     * A socket factory that trusts {@link #caCert()} and nothing else (not the system's CAs). Host names are not
     * checked: the CA signs this orchestrator's certificate only, and a shard may be reached through a forwarded
     * port or at an address chosen on its node at launch.
     */
    public SSLSocketFactory socketFactory() {
        Path ca = caCert();
        String key;
        try {
            key = ca.toAbsolutePath() + "@" + Files.getLastModifiedTime(ca).toMillis() + "/" + Files.size(ca);
        } catch (IOException e) {
            throw new LaunchException("cannot read the TLS CA certificate " + ca + ": " + e.getMessage()
                    + "; it is written when the orchestrator starts with --tls", e);
        }
        return FACTORIES.computeIfAbsent(key, k -> build(ca));
    }

    private static SSLSocketFactory build(Path ca) {
        try (InputStream in = Files.newInputStream(ca)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new LaunchException("the TLS CA file " + ca + " holds no certificate");
            }
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (Certificate c : certs) {
                trust.setCertificateEntry("ca" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx.getSocketFactory();
        } catch (IOException | GeneralSecurityException e) {
            throw new LaunchException("cannot load the TLS CA certificate " + ca + ": " + e.getMessage(), e);
        }
    }
}
