package io.smartsim.launch.dashboard;

import com.sun.net.httpserver.HttpExchange;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * Who may read {@code /metrics} and the dashboard: anyone on this machine when bound to loopback (the default);
 * bound to any other address, only a caller that presents the token generated at start, as
 * {@code Authorization: Bearer TOKEN} (what Prometheus's {@code authorization} setting sends) or {@code ?token=TOKEN}
 * (what a browser can open).
 */
public record HttpAccess(String bind, Optional<String> token) {
    public HttpAccess {
        token = token == null ? Optional.empty() : token;
        if (token.isEmpty() && !loopback(bind)) {
            throw new IllegalArgumentException("--bind " + bind + " is not a loopback address: anyone who reaches it "
                    + "could read the experiment; a token is required there (generate one with HttpAccess.forBind, "
                    + "which the CLI does and prints once), or bind to 127.0.0.1 (the default)");
        }
    }

    /** Loopback: no token. Any other address: a new random token, to be shown to the user once. */
    public static HttpAccess forBind(String bind) {
        return new HttpAccess(bind, loopback(bind) ? Optional.empty() : Optional.of(newToken()));
    }

    public static String newToken() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    static boolean loopback(String bind) {
        try {
            return InetAddress.getByName(bind).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--bind " + bind + ": unknown address; give an IP address of this "
                    + "machine, such as 127.0.0.1", e);
        }
    }

    /** Whether the request may be served. */
    boolean allows(HttpExchange ex) {
        if (token.isEmpty()) {
            return true;
        }
        byte[] want = token.get().getBytes(StandardCharsets.UTF_8);
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null && auth.startsWith("Bearer ")
                && MessageDigest.isEqual(want, auth.substring(7).strip().getBytes(StandardCharsets.UTF_8))) {
            return true;
        }
        String given = query(ex.getRequestURI(), "token");
        return given != null && MessageDigest.isEqual(want, given.getBytes(StandardCharsets.UTF_8));
    }

    static String query(URI uri, String name) {
        String q = uri.getRawQuery();
        if (q == null) {
            return null;
        }
        for (String part : q.split("&")) {
            int eq = part.indexOf('=');
            String k = eq < 0 ? part : part.substring(0, eq);
            if (k.equals(name)) {
                return java.net.URLDecoder.decode(eq < 0 ? "" : part.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "HttpAccess[" + bind + (token.isPresent() ? ", token required" : ", loopback") + "]";
    }
}
