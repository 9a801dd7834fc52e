package io.smartsim.launch.ai.testing;

import io.smartsim.launch.ai.resp.RespInput;
import io.smartsim.launch.ai.resp.RespOutput;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A raw RESP2 client for compatibility tests: sends every argument as a bulk string, as SmartRedis does, and returns
 * replies with their RESP type kept (RespSimple vs byte[] bulk vs Long vs List vs RespError), so tests can check the
 * shapes SmartRedis reads by position.
 */
public final class RespClient implements AutoCloseable {
    private final Socket socket;
    private final RespInput in;
    private final RespOutput out;

    private RespClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new RespInput(socket.getInputStream());
        this.out = new RespOutput(new BufferedOutputStream(socket.getOutputStream()));
    }

    public static RespClient connect(int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        s.setSoTimeout(60_000);
        return new RespClient(s);
    }

    /** One command; arguments are Strings, byte[]s or numbers. */
    public Object call(Object... args) throws IOException {
        send(args);
        return read();
    }

    /** Several commands in one write, then their replies. */
    public List<Object> pipeline(List<Object[]> commands) throws IOException {
        for (Object[] c : commands) {
            out.command(toBytes(c));
        }
        out.flush();
        List<Object> r = new ArrayList<>();
        for (int i = 0; i < commands.size(); i++) {
            r.add(in.readReply());
        }
        return r;
    }

    public void send(Object... args) throws IOException {
        out.command(toBytes(args));
        out.flush();
    }

    /** Sends raw bytes as they are (inline commands, broken protocol). */
    public void sendRaw(byte[] bytes) throws IOException {
        out.stream().write(bytes);
        out.flush();
    }

    public Object read() throws IOException {
        return in.readReply();
    }

    private static byte[][] toBytes(Object[] args) {
        byte[][] b = new byte[args.length][];
        for (int i = 0; i < args.length; i++) {
            b[i] = args[i] instanceof byte[] bytes ? bytes : String.valueOf(args[i]).getBytes(StandardCharsets.UTF_8);
        }
        return b;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
