package io.smartsim.launch.ai.module;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A RESP2 connection that keeps every reply as the exact bytes the server wrote, so two servers' answers can be
 * compared byte for byte. Arguments go out as bulk strings, as SmartRedis sends them.
 */
final class RawReplies implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RawReplies(int port) throws IOException {
        this(port, 60_000);
    }

    /** With a read timeout of {@code timeoutMs} on every reply (a SocketTimeoutException past it). */
    RawReplies(int port, int timeoutMs) throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(timeoutMs);
        in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
        out = socket.getOutputStream();
    }

    /** Sends all commands in one write (a pipeline), then reads one reply per command. */
    List<byte[]> pipeline(List<byte[][]> commands) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[][] c : commands) {
            b.writeBytes(("*" + c.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            for (byte[] a : c) {
                b.writeBytes(("$" + a.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
                b.writeBytes(a);
                b.writeBytes(new byte[] {'\r', '\n'});
            }
        }
        out.write(b.toByteArray());
        out.flush();
        List<byte[]> replies = new ArrayList<>();
        for (int i = 0; i < commands.size(); i++) {
            ByteArrayOutputStream r = new ByteArrayOutputStream();
            readReply(r);
            replies.add(r.toByteArray());
        }
        return replies;
    }

    byte[] call(byte[]... command) throws IOException {
        return pipeline(List.<byte[][]>of(command)).get(0);
    }

    private void readReply(ByteArrayOutputStream r) throws IOException {
        String line = readLine(r);
        switch (line.charAt(0)) {
            case '+', '-', ':' -> {
            }
            case '$' -> {
                int n = Integer.parseInt(line.substring(1));
                if (n >= 0) {
                    r.writeBytes(in.readNBytes(n + 2));
                }
            }
            case '*' -> {
                int n = Integer.parseInt(line.substring(1));
                for (int i = 0; i < n; i++) {
                    readReply(r);
                }
            }
            default -> throw new IOException("not a RESP2 reply: " + line);
        }
    }

    private String readLine(ByteArrayOutputStream r) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int prev = -1;
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("connection closed mid-reply");
            }
            r.write(c);
            if (prev == '\r' && c == '\n') {
                byte[] l = line.toByteArray();
                return new String(l, 0, l.length - 1, StandardCharsets.ISO_8859_1);
            }
            line.write(c);
            prev = c;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
