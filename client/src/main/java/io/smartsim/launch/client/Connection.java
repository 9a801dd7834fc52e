package io.smartsim.launch.client;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** One RESP2 connection: commands as arrays of bulk strings, replies decoded. Not thread-safe. */
final class Connection implements Closeable {
    /** A simple-string reply such as OK or TIMEDOUT. */
    record Status(String text) {
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private Connection(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    }

    static Connection open(String host, int port, Duration timeout) throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return new Connection(s);
    }

    /** Sends one command and returns its reply; an error reply throws {@link ClientException}. */
    Object call(Object... args) throws IOException {
        write(args);
        out.flush();
        Object r = read();
        if (r instanceof ClientException e) {
            throw new ClientException("'" + text(args[0]) + "' failed: " + e.getMessage());
        }
        return r;
    }

    /**
     * Sends the commands in one write, then reads every reply (so the connection stays in step); throws for the first
     * error reply, as SmartRedis does for a pipeline, after all have run.
     */
    List<Object> pipeline(List<Object[]> commands) throws IOException {
        for (Object[] c : commands) {
            write(c);
        }
        out.flush();
        List<Object> replies = new ArrayList<>(commands.size());
        ClientException first = null;
        for (Object[] c : commands) {
            Object r = read();
            if (r instanceof ClientException e && first == null) {
                first = new ClientException("'" + text(c[0]) + "' in a pipeline failed: " + e.getMessage());
            }
            replies.add(r);
        }
        if (first != null) {
            throw first;
        }
        return replies;
    }

    private void write(Object[] args) throws IOException {
        out.write(('*' + Integer.toString(args.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (Object a : args) {
            byte[] b = a instanceof byte[] bytes ? bytes : String.valueOf(a).getBytes(StandardCharsets.UTF_8);
            out.write(('$' + Integer.toString(b.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(b);
            out.write('\r');
            out.write('\n');
        }
    }

    private static String text(Object a) {
        return a instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(a);
    }

    private Object read() throws IOException {
        int type = in.read();
        String line = line();
        switch (type) {
            case '+':
                return new Status(line);
            case '-':
                return new ClientException(line);
            case ':':
                return Long.parseLong(line);
            case '$': {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    return null;
                }
                byte[] b = in.readNBytes(n + 2);
                if (b.length != n + 2) {
                    throw new EOFException("connection closed inside a reply");
                }
                return java.util.Arrays.copyOf(b, n);
            }
            case '*': {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    return null;
                }
                List<Object> l = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    Object o = read();
                    l.add(o);
                }
                return l;
            }
            case -1:
                throw new EOFException("connection closed by the server");
            default:
                throw new IOException("not a RESP reply (type byte " + type + ")");
        }
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != '\r') {
            if (c < 0) {
                throw new EOFException("connection closed by the server");
            }
            sb.append((char) c);
        }
        in.read(); // LF
        return sb.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
