package io.smartsim.launch.cluster;

import io.smartsim.launch.exec.Routes;
import io.smartsim.launch.security.Access;
import io.smartsim.launch.security.Credentials;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** One PING over a plain socket: cheaper than a client library while hundreds of shards boot. */
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
     * As {@link #pong(String, int, int)}, logged in first when {@code access} has a user: {@code AUTH} and
     * {@code PING} in one write, true only for {@code +OK} then {@code +PONG} (a wrong password is false).
     */
    public static boolean pong(String host, int port, int timeoutMillis, Access access) {
        if (access.credentials().isEmpty()) {
            return pong(host, port, timeoutMillis);
        }
        Credentials c = access.credentials().get();
        try (Socket sock = new Socket()) {
            sock.connect(Routes.resolve(host, port), timeoutMillis); // through a forwarded port when routed
            sock.setSoTimeout(timeoutMillis);
            OutputStream out = sock.getOutputStream();
            out.write((resp("AUTH", c.user(), c.password()) + resp("PING")).getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = sock.getInputStream();
            StringBuilder replies = new StringBuilder();
            byte[] buf = new byte[64];
            while (replies.chars().filter(ch -> ch == '\n').count() < 2) {
                int n = in.read(buf);
                if (n < 0) {
                    return false;
                }
                replies.append(new String(buf, 0, n, StandardCharsets.US_ASCII));
                if (replies.length() > 512) {
                    return false;
                }
            }
            return replies.toString().startsWith("+OK\r\n+PONG");
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

    /** One command as a RESP array of bulk strings. */
    static String resp(String... args) {
        StringBuilder sb = new StringBuilder("*").append(args.length).append("\r\n");
        for (String a : args) {
            sb.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
        }
        return sb.toString();
    }
}
