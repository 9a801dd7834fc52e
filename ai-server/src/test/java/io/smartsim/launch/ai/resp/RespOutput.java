package io.smartsim.launch.ai.resp;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Writes RESP2 replies and commands. Not thread-safe; callers flush. */
public final class RespOutput {
    private static final byte[] CRLF = {'\r', '\n'};
    private final OutputStream out;

    public RespOutput(OutputStream out) {
        this.out = out;
    }

    public OutputStream stream() {
        return out;
    }

    public void simple(String s) throws IOException {
        out.write('+');
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.write(CRLF);
    }

    /** An error reply; CR and LF in the text are replaced by spaces, as Redis does. */
    public void error(String s) throws IOException {
        out.write('-');
        out.write(s.replace('\r', ' ').replace('\n', ' ').getBytes(StandardCharsets.UTF_8));
        out.write(CRLF);
    }

    public void integer(long v) throws IOException {
        out.write(':');
        out.write(Long.toString(v).getBytes(StandardCharsets.US_ASCII));
        out.write(CRLF);
    }

    public void bulk(byte[] b) throws IOException {
        bulk(b, 0, b.length);
    }

    public void bulk(byte[] b, int off, int len) throws IOException {
        out.write('$');
        out.write(Integer.toString(len).getBytes(StandardCharsets.US_ASCII));
        out.write(CRLF);
        out.write(b, off, len);
        out.write(CRLF);
    }

    public void bulk(String s) throws IOException {
        bulk(s.getBytes(StandardCharsets.UTF_8));
    }

    public void nil() throws IOException {
        out.write("$-1\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    public void arrayHeader(long n) throws IOException {
        out.write('*');
        out.write(Long.toString(n).getBytes(StandardCharsets.US_ASCII));
        out.write(CRLF);
    }

    /** A command: an array of bulk strings. */
    public void command(byte[]... args) throws IOException {
        arrayHeader(args.length);
        for (byte[] a : args) {
            bulk(a);
        }
    }

    public void command(List<byte[]> args) throws IOException {
        command(args.toArray(new byte[0][]));
    }

    /** Writes a decoded reply value back out (as {@link RespInput#readReply} returns them). */
    @SuppressWarnings("unchecked")
    public void value(Object v) throws IOException {
        if (v == null) {
            nil();
        } else if (v instanceof RespSimple s) {
            simple(s.text());
        } else if (v instanceof RespError e) {
            error(e.text());
        } else if (v instanceof Long l) {
            integer(l);
        } else if (v instanceof Integer i) {
            integer(i);
        } else if (v instanceof byte[] b) {
            bulk(b);
        } else if (v instanceof String s) {
            bulk(s);
        } else if (v instanceof List<?> list) {
            arrayHeader(list.size());
            for (Object o : (List<Object>) list) {
                value(o);
            }
        } else {
            throw new IllegalArgumentException("not a RESP value: " + v.getClass());
        }
    }

    public void flush() throws IOException {
        out.flush();
    }
}
