package io.smartsim.launch.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A cluster as SmartRedis sees it (shared/notes/redisai.md section 3): the CLUSTER SLOTS entries sorted by their lower
 * slot, one connection per shard opened on first use, and each shard's key prefix, the bytes whose CRC16 is the shard's
 * lowest slot. Keys are routed by their slot, computed here; MOVED is not followed (SmartRedis does not either).
 */
final class ClusterMap implements AutoCloseable {
    /** One master: its slots, address, node id and prefix. */
    static final class Shard {
        final int lo;
        final int hi;
        final String host;
        final int port;
        final String id;
        final byte[] prefix;
        private Connection conn;

        Shard(int lo, int hi, String host, int port, String id) {
            this.lo = lo;
            this.hi = hi;
            this.host = host;
            this.port = port;
            this.id = id;
            this.prefix = prefix(lo);
        }

        Connection connection(Duration timeout, String[] login) throws IOException {
            if (conn == null) {
                Connection c = Connection.open(host, port, timeout);
                if (login != null) {
                    c.call("AUTH", login[0], login[1]);
                }
                conn = c;
            }
            return conn;
        }

        /** {@code {prefix}.name}: a key that lives on this shard. */
        byte[] key(String name) {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            byte[] k = new byte[prefix.length + 3 + n.length];
            k[0] = '{';
            System.arraycopy(prefix, 0, k, 1, prefix.length);
            k[prefix.length + 1] = '}';
            k[prefix.length + 2] = '.';
            System.arraycopy(n, 0, k, prefix.length + 3, n.length);
            return k;
        }
    }

    final List<Shard> shards;
    private final Duration timeout;
    private final String[] login;

    private ClusterMap(List<Shard> shards, Duration timeout, String[] login) {
        this.shards = shards;
        this.timeout = timeout;
        this.login = login;
    }

    /** Reads CLUSTER SLOTS through {@code seed} (which becomes the connection of the shard at its address). */
    static ClusterMap discover(Connection seed, String seedHost, int seedPort, Duration timeout, String[] login)
            throws IOException {
        List<?> slots = (List<?>) seed.call("CLUSTER", "SLOTS");
        List<Shard> shards = new ArrayList<>();
        for (Object o : slots) {
            List<?> e = (List<?>) o;
            List<?> master = (List<?>) e.get(2);
            shards.add(new Shard(((Long) e.get(0)).intValue(), ((Long) e.get(1)).intValue(),
                    new String((byte[]) master.get(0), StandardCharsets.UTF_8), ((Long) master.get(1)).intValue(),
                    new String((byte[]) master.get(2), StandardCharsets.UTF_8)));
        }
        if (shards.isEmpty()) {
            throw new ClientException("CLUSTER SLOTS is empty: the cluster has no slots assigned yet");
        }
        shards.sort(Comparator.comparingInt(s -> s.lo));
        for (Shard s : shards) {
            if (s.port == seedPort && s.host.equals(seedHost) && s.conn == null) {
                s.conn = seed;
                seed = null;
            }
        }
        if (seed != null) {
            seed.close();
        }
        return new ClusterMap(List.copyOf(shards), timeout, login);
    }

    Shard owner(byte[] key) {
        int slot = slot(key);
        for (Shard s : shards) {
            if (slot >= s.lo && slot <= s.hi) {
                return s;
            }
        }
        throw new ClientException("slot " + slot + " of key " + new String(key, StandardCharsets.UTF_8)
                + " is served by no shard in CLUSTER SLOTS");
    }

    Connection connection(Shard s) throws IOException {
        return s.connection(timeout, login);
    }

    // ------------------------------------------------------------ slot maths

    private static final int[] TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int crc = i << 8;
            for (int b = 0; b < 8; b++) {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
            TABLE[i] = crc & 0xFFFF;
        }
    }

    static int crc16(byte[] d, int from, int to) {
        int crc = 0;
        for (int i = from; i < to; i++) {
            crc = ((crc << 8) ^ TABLE[((crc >>> 8) ^ d[i]) & 0xFF]) & 0xFFFF;
        }
        return crc;
    }

    /** The key's hash slot, honouring a {@code {tag}} as Redis does. */
    static int slot(byte[] key) {
        for (int i = 0; i < key.length; i++) {
            if (key[i] == '{') {
                for (int j = i + 1; j < key.length; j++) {
                    if (key[j] == '}') {
                        return (j > i + 1 ? crc16(key, i + 1, j) : crc16(key, 0, key.length)) & 16383;
                    }
                }
                break;
            }
        }
        return crc16(key, 0, key.length) & 16383;
    }

    /**
     * The shortest bytes whose CRC16 is {@code slot}: the one 2-byte string (CRC16 maps 2-byte strings one to one), as
     * SmartRedis's {@code _get_crc16_prefix}; when that holds a brace, the first 3-byte string without one.
     */
    static byte[] prefix(int slot) {
        for (int v = 0; v < 65536; v++) {
            byte[] b = {(byte) (v >>> 8), (byte) v};
            if (crc16(b, 0, 2) == slot) {
                if (b[0] != '{' && b[0] != '}' && b[1] != '{' && b[1] != '}') {
                    return b;
                }
                break;
            }
        }
        for (int v = 0; v < 1 << 24; v++) {
            byte[] b = {(byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
            boolean brace = false;
            for (byte x : b) {
                brace |= x == '{' || x == '}';
            }
            if (!brace && crc16(b, 0, 3) == slot) {
                return b;
            }
        }
        throw new IllegalStateException("no prefix for slot " + slot);
    }

    @Override
    public void close() {
        for (Shard s : shards) {
            if (s.conn != null) {
                try {
                    s.conn.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
        }
    }
}
