package io.smartsim.launch.cluster;

import io.smartsim.launch.exec.Routes;
import io.smartsim.launch.planned.Access;
import io.smartsim.launch.planned.Credentials;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** One PING over a socket (TLS under {@code --tls}): cheaper than a client library while hundreds of shards boot. */
public final class Ping {
    private Ping() {
    }

    /** True when the server answers {@code +PONG}; "-LOADING" or no answer within the timeout is false. */
    public static boolean pong(String host, int port, int timeoutMillis) {
        try (Socket sock = new Socket()) {
            sock.connect(Routes.resolve(host, port), timeoutMillis); // through a forwarded port when routed
            sock.setSoTimeout(timeoutMillis);
            OutputStream out = sock.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = sock.getInputStream();
            byte[] buf = new byte[64];
            int n = in.read(buf);
            return n >= 5 && new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * As {@link #pong(String, int, int)}, over TLS trusting the orchestrator's CA when {@code access} has one, and
     * logged in first when it has a user: {@code AUTH} and {@code PING} in one write, true only for {@code +OK} then
     * {@code +PONG} (a wrong password is false). A failed TLS handshake (the server not up yet) is false.
     */
    public static boolean pong(String host, int port, int timeoutMillis, Access access) {
        if (access.credentials().isEmpty() && access.tls().isEmpty()) {
            return pong(host, port, timeoutMillis);
        }
        Optional<Credentials> login = access.credentials();
        try (Socket sock = connect(host, port, timeoutMillis, access)) {
            OutputStream out = sock.getOutputStream();
            out.write((login.map(c -> resp("AUTH", c.user(), c.password())).orElse("") + resp("PING"))
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = sock.getInputStream();
            StringBuilder replies = new StringBuilder();
            byte[] buf = new byte[64];
            long lines = login.isPresent() ? 2 : 1;
            while (replies.chars().filter(ch -> ch == '\n').count() < lines) {
                int n = in.read(buf);
                if (n < 0) {
                    return false;
                }
                replies.append(new String(buf, 0, n, StandardCharsets.US_ASCII));
                if (replies.length() > 512) {
                    return false;
                }
            }
            return replies.toString().startsWith(login.isPresent() ? "+OK\r\n+PONG" : "+PONG");
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * True when a server answers at all: {@code +PONG}, {@code -NOAUTH} (it wants a password), {@code -LOADING}.
     * For checking that a shard has gone, whatever its password.
     */
    public static boolean answers(String host, int port, int timeoutMillis) {
        try (Socket sock = new Socket()) {
            sock.connect(Routes.resolve(host, port), timeoutMillis); // through a forwarded port when routed
            sock.setSoTimeout(timeoutMillis);
            OutputStream out = sock.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            int first = sock.getInputStream().read();
            return first == '+' || first == '-';
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * As {@link #answers(String, int, int)}, over TLS when {@code access} has the orchestrator's CA: a TLS shard
     * closes a plain-text connection without a word, so only a TLS PING can tell that it is still there.
     */
    public static boolean answers(String host, int port, int timeoutMillis, Access access) {
        if (access.tls().isEmpty()) {
            return answers(host, port, timeoutMillis);
        }
        try (Socket sock = connect(host, port, timeoutMillis, access)) {
            OutputStream out = sock.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            int first = sock.getInputStream().read();
            return first == '+' || first == '-';
        } catch (IOException e) {
            return false;
        }
    }

    /** A connected socket (through a forwarded port when routed), TLS with the handshake done when {@code access} says so. */
    private static Socket connect(String host, int port, int timeoutMillis, Access access) throws IOException {
        Socket sock = new Socket();
        try {
            sock.connect(Routes.resolve(host, port), timeoutMillis);
            sock.setSoTimeout(timeoutMillis);
            if (access.tls().isEmpty()) {
                return sock;
            }
            SSLSocket tls = (SSLSocket) access.tls().get().socketFactory().createSocket(sock, host, port, true);
            tls.startHandshake(); // bounded by the socket timeout
            return tls;
        } catch (IOException | RuntimeException e) {
            sock.close();
            throw e;
        }
    }

    /** One command as a RESP array of bulk strings. */
    static String resp(String... args) {
        StringBuilder sb = new StringBuilder("*").append(args.length).append("\r\n");
        for (String a : args) {
            sb.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
        }
        return sb.toString();
    }
}
