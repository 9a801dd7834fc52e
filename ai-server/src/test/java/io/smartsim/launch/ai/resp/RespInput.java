package io.smartsim.launch.ai.resp;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads RESP from a stream: client commands (arrays of bulk strings, or inline commands), whole replies as values,
 * or replies copied through to another stream without being decoded. Buffered here, so {@link #hasBuffered} can tell
 * whether a pipelined command is already waiting.
 */
public final class RespInput {
    /** Redis's own limits: proto-max-bulk-len (512 MiB) and a generous element count per command. */
    public static final int MAX_BULK = 512 * 1024 * 1024;
    private static final int MAX_ARGS = 1024 * 1024;
    private static final int MAX_LINE = 64 * 1024;

    private final InputStream in;
    private final byte[] buf;
    private int pos;
    private int limit;

    public RespInput(InputStream in) {
        this(in, 64 * 1024);
    }

    public RespInput(InputStream in, int bufferSize) {
        this.in = in;
        this.buf = new byte[bufferSize];
    }

    /** Whether bytes are already buffered or readable without blocking: the client has pipelined more. */
    public boolean hasBuffered() throws IOException {
        return pos < limit || in.available() > 0;
    }

    /** The next command's arguments, or null at a clean end of stream. Inline commands are split on spaces. */
    public byte[][] readCommand() throws IOException {
        int first = peek();
        if (first < 0) {
            return null;
        }
        if (first != '*') {
            String line = new String(readLine(), StandardCharsets.UTF_8).trim();
            if (line.isEmpty()) {
                return new byte[0][];
            }
            return Arrays.stream(line.split("\\s+")).map(s -> s.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new);
        }
        pos++;
        long n = readLong();
        if (n < 0 || n > MAX_ARGS) {
            throw new RespProtocolException("invalid multibulk length");
        }
        byte[][] args = new byte[(int) n][];
        for (int i = 0; i < n; i++) {
            if (readByte() != '$') {
                throw new RespProtocolException("expected '$', got something else");
            }
            long len = readLong();
            if (len < 0 || len > MAX_BULK) {
                throw new RespProtocolException("invalid bulk length");
            }
            args[i] = readExactly((int) len);
            expectCrlf();
        }
        return args;
    }

    /**
     * One reply as a value: {@link RespSimple}, {@link RespError}, {@link Long}, {@code byte[]} (bulk), {@code null}
     * (nil bulk or nil array), or {@code List<Object>} (array). RESP3 types are not expected from a RESP2 connection.
     */
    public Object readReply() throws IOException {
        int type = readByte();
        switch (type) {
            case '+':
                return new RespSimple(new String(readLine(), StandardCharsets.UTF_8));
            case '-':
                return new RespError(new String(readLine(), StandardCharsets.UTF_8));
            case ':':
                return readLong();
            case '$': {
                long len = readLong();
                if (len < 0) {
                    return null;
                }
                byte[] b = readExactly((int) len);
                expectCrlf();
                return b;
            }
            case '*': {
                long n = readLong();
                if (n < 0) {
                    return null;
                }
                List<Object> items = new ArrayList<>((int) Math.min(n, 1024));
                for (long i = 0; i < n; i++) {
                    items.add(readReply());
                }
                return items;
            }
            default:
                throw new RespProtocolException("unexpected reply type byte " + type);
        }
    }

    /**
     * Copies exactly one reply, of any RESP2 or RESP3 type, to {@code out} without decoding it; bulk payloads are
     * streamed. Returns the type byte of the reply.
     */
    public int copyReply(OutputStream out) throws IOException {
        int type = readByte();
        out.write(type);
        byte[] line = readLine();
        out.write(line);
        out.write('\r');
        out.write('\n');
        switch (type) {
            case '$', '=', '!' -> {
                long len = parseLong(line);
                if (len >= 0) {
                    copyBytes(len + 2, out);
                }
            }
            case '*', '~', '>' -> {
                long n = parseLong(line);
                for (long i = 0; i < n; i++) {
                    copyReply(out);
                }
            }
            case '%', '|' -> {
                long n = parseLong(line);
                for (long i = 0; i < 2 * n; i++) {
                    copyReply(out);
                }
            }
            default -> {
                // + - : _ , # ( carry everything on their one line.
            }
        }
        return type;
    }

    /** Copies whatever arrives until the stream ends: for connections that became a plain tunnel (pub/sub). */
    public void copyAll(OutputStream out) throws IOException {
        while (true) {
            if (pos < limit) {
                out.write(buf, pos, limit - pos);
                pos = limit;
                out.flush();
            }
            if (!fill()) {
                return;
            }
        }
    }

    private void copyBytes(long n, OutputStream out) throws IOException {
        while (n > 0) {
            if (pos == limit && !fill()) {
                throw new EOFException("connection closed inside a bulk reply");
            }
            int k = (int) Math.min(n, limit - pos);
            out.write(buf, pos, k);
            pos += k;
            n -= k;
        }
    }

    private int peek() throws IOException {
        if (pos == limit && !fill()) {
            return -1;
        }
        return buf[pos] & 0xff;
    }

    private int readByte() throws IOException {
        if (pos == limit && !fill()) {
            throw new EOFException("connection closed");
        }
        return buf[pos++] & 0xff;
    }

    private boolean fill() throws IOException {
        int n = in.read(buf, 0, buf.length);
        if (n <= 0) {
            return false;
        }
        pos = 0;
        limit = n;
        return true;
    }

    private byte[] readLine() throws IOException {
        byte[] out = new byte[64];
        int n = 0;
        while (true) {
            int b = readByte();
            if (b == '\r') {
                if (readByte() != '\n') {
                    throw new RespProtocolException("expected LF after CR");
                }
                return Arrays.copyOf(out, n);
            }
            if (b == '\n') { // inline commands may end with a bare LF
                return Arrays.copyOf(out, n);
            }
            if (n == out.length) {
                if (n >= MAX_LINE) {
                    throw new RespProtocolException("line too long");
                }
                out = Arrays.copyOf(out, n * 2);
            }
            out[n++] = (byte) b;
        }
    }

    private long readLong() throws IOException {
        return parseLong(readLine());
    }

    private static long parseLong(byte[] line) {
        if (line.length == 0) {
            throw new RespProtocolException("empty number");
        }
        long v = 0;
        int i = 0;
        boolean neg = line[0] == '-';
        if (neg) {
            i = 1;
        }
        for (; i < line.length; i++) {
            int d = line[i] - '0';
            if (d < 0 || d > 9) {
                throw new RespProtocolException("invalid number '" + new String(line, StandardCharsets.US_ASCII) + "'");
            }
            v = v * 10 + d;
        }
        return neg ? -v : v;
    }

    private byte[] readExactly(int len) throws IOException {
        byte[] out = new byte[len];
        int off = 0;
        while (off < len) {
            if (pos == limit) {
                // Large payloads: read straight into the target once the buffer is drained.
                if (len - off >= buf.length) {
                    int n = in.read(out, off, len - off);
                    if (n <= 0) {
                        throw new EOFException("connection closed inside a bulk string");
                    }
                    off += n;
                    continue;
                }
                if (!fill()) {
                    throw new EOFException("connection closed inside a bulk string");
                }
            }
            int k = Math.min(len - off, limit - pos);
            System.arraycopy(buf, pos, out, off, k);
            pos += k;
            off += k;
        }
        return out;
    }

    private void expectCrlf() throws IOException {
        if (readByte() != '\r' || readByte() != '\n') {
            throw new RespProtocolException("expected CRLF after bulk string");
        }
    }
}
