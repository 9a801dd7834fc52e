package io.smartsim.launch.ai;

import io.smartsim.launch.ai.resp.RespInput;
import io.smartsim.launch.ai.resp.RespOutput;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One connection to the backing redis-server, owned by one client connection of the front: the client's commands
 * pass through it, and the AI commands' own reads and writes use it too, so whatever the client set on it (AUTH,
 * SELECT, CLIENT SETNAME) applies to both.
 */
final class Upstream implements Closeable {
    private final Closeable socket;
    final RespInput in;
    final RespOutput out;
    final InputStream rawIn;

    private Upstream(Closeable socket, InputStream in, OutputStream out) {
        this.socket = socket;
        this.rawIn = in;
        this.in = new RespInput(in);
        this.out = new RespOutput(new BufferedOutputStream(out, 64 * 1024));
    }

    /** Connects to {@code address}: "host:port", or "unix:/path/to/redis.sock". */
    static Upstream connect(String address, Duration timeout) throws IOException {
        if (address.startsWith("unix:")) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(Path.of(address.substring(5))));
            } catch (IOException e) {
                ch.close();
                throw e;
            }
            return new Upstream(ch, Channels.newInputStream(ch), Channels.newOutputStream(ch));
        }
        int colon = address.lastIndexOf(':');
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
                    (int) timeout.toMillis());
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return new Upstream(s, s.getInputStream(), s.getOutputStream());
    }

    /** Sends one command and reads its reply. */
    Object call(byte[]... command) throws IOException {
        out.command(command);
        out.flush();
        return in.readReply();
    }

    /** Sends the commands in one write and reads their replies, in order. */
    List<Object> pipeline(List<byte[][]> commands) throws IOException {
        for (byte[][] c : commands) {
            out.command(c);
        }
        out.flush();
        List<Object> replies = new ArrayList<>(commands.size());
        for (int i = 0; i < commands.size(); i++) {
            replies.add(in.readReply());
        }
        return replies;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
