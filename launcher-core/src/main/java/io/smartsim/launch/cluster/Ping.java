package io.smartsim.launch.cluster;

import io.smartsim.launch.exec.Routes;

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
}
