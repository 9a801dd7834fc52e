package io.smartsim.launch.security;

import io.smartsim.launch.planned.Tls;
import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.util.Executables;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Writes an orchestrator's {@link Tls} files with the {@code openssl} command (OpenSSL 3): a fresh CA (P-256) and a
 * server certificate it signs, valid for the shards' hosts and addresses (subjectAltName) and for both TLS roles
 * (serverAuth for clients, clientAuth for the cluster bus, where shards present it to each other). The CA's key is
 * deleted as soon as it has signed: nothing else can ever be signed by that CA. Every start makes new ones.
 */
public final class TlsGenerator {
    /** How long the certificates are valid; a start always makes new ones. */
    public static final int VALID_DAYS = 365;
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
    private static final String CURVE = "ec_paramgen_curve:prime256v1";
    private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final Pattern DNS = Pattern.compile("[A-Za-z0-9*]([A-Za-z0-9.-]{0,252})");

    private TlsGenerator() {
    }

    /**
     * The subjectAltName value for {@code names} (host names and addresses, in order, duplicates dropped): IP
     * entries for addresses, DNS entries for names; a loopback address adds {@code localhost}, 127.0.0.1 and ::1.
     * Anything that is neither (it would not survive the openssl argument) is left out.
     */
    public static String subjectAltName(Collection<String> names) {
        Set<String> entries = new LinkedHashSet<>();
        for (String n : names) {
            if (n == null || n.isBlank()) {
                continue;
            }
            if (n.startsWith("127.") || n.equals("::1") || n.equals("localhost")) {
                entries.add("DNS:localhost");
                entries.add("IP:127.0.0.1");
                entries.add("IP:::1");
            }
            if (IPV4.matcher(n).matches() || (n.contains(":") && n.matches("[0-9A-Fa-f:.]+"))) {
                entries.add("IP:" + n);
            } else if (DNS.matcher(n).matches()) {
                entries.add("DNS:" + n);
            }
        }
        if (entries.isEmpty()) {
            entries.add("DNS:localhost");
        }
        return String.join(",", entries);
    }

    /**
     * Writes {@code tls}'s files, replacing any from an earlier start: its directory 0700, the key 0600.
     *
     * @param label  what the certificates are for, in their subject (experiment and orchestrator id)
     * @param names  the shards' hosts and addresses
     * @param runner where {@code openssl} runs: this machine
     */
    public static Tls generate(Tls tls, String label, Collection<String> names, CommandRunner runner) {
        String openssl = Executables.onPath("openssl").map(Path::toString).orElseThrow(() -> new LaunchException(
                "--tls needs the openssl command to make the orchestrator's certificates, and it is not on PATH; "
                        + "install it (Debian/Ubuntu: apt-get install openssl)"));
        Path caKey = tls.dir().resolve("ca.key");
        try {
            OwnerOnly.createDirectory(tls.dir());
            for (Path p : List.of(tls.caCert(), caKey, tls.cert(), tls.key())) {
                Files.deleteIfExists(p);
            }
            String cn = label.replaceAll("[^A-Za-z0-9._ -]", "_");
            run(runner, List.of(openssl, "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", CURVE, "-noenc",
                    "-keyout", caKey.toString(), "-out", tls.caCert().toString(), "-days", Integer.toString(VALID_DAYS),
                    "-subj", "/O=smartsim-launch/CN=" + cn + " CA",
                    "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"));
            run(runner, List.of(openssl, "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", CURVE, "-noenc",
                    "-keyout", tls.key().toString(), "-out", tls.cert().toString(), "-days",
                    Integer.toString(VALID_DAYS), "-subj", "/O=smartsim-launch/CN=" + cn,
                    "-CA", tls.caCert().toString(), "-CAkey", caKey.toString(),
                    "-addext", "subjectAltName=" + subjectAltName(names),
                    "-addext", "basicConstraints=critical,CA:FALSE",
                    "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
                    "-addext", "extendedKeyUsage=serverAuth,clientAuth"));
            OwnerOnly.restrict(tls.key(), OwnerOnly.FILE);
            return tls;
        } catch (IOException e) {
            throw new LaunchException("cannot write the TLS files under " + tls.dir() + ": " + e.getMessage()
                    + "; check that the experiment directory is writable", e);
        } finally {
            try {
                Files.deleteIfExists(caKey);
            } catch (IOException e) {
                // left in a 0700 directory; the next start replaces it
            }
        }
    }

    private static void run(CommandRunner runner, List<String> argv) {
        CommandResult r = runner.run(new ArrayList<>(argv), CALL_TIMEOUT);
        if (!r.ok()) {
            throw new LaunchException("cannot make the orchestrator's TLS certificates: " + r.describe());
        }
    }
}
