package io.smartsim.launch.cluster;

import io.smartsim.launch.planned.SlotRange;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One line of {@code CLUSTER NODES}: {@code <id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent>
 * <pong-recv> <config-epoch> <link-state> <slot> <slot> ...}. Both Redis 7 and KeyDB (Redis 6) write it.
 */
public record ClusterNode(String id, String host, int port, Set<String> flags, String masterId, long configEpoch,
                          String linkState, List<SlotRange> slots) {
    public ClusterNode {
        flags = Set.copyOf(flags);
        slots = List.copyOf(slots);
    }

    public boolean myself() {
        return flags.contains("myself");
    }

    public boolean master() {
        return flags.contains("master");
    }

    /** Failing, handshaking or address-less nodes mean the cluster has not settled. */
    public boolean troubled() {
        return flags.contains("fail") || flags.contains("fail?") || flags.contains("handshake")
                || flags.contains("noaddr");
    }

    public static List<ClusterNode> parseAll(String reply) {
        List<ClusterNode> out = new ArrayList<>();
        for (String line : reply.split("\r?\n")) {
            if (!line.isBlank()) {
                out.add(parse(line.strip()));
            }
        }
        return out;
    }

    public static ClusterNode parse(String line) {
        String[] f = line.split(" ");
        if (f.length < 8) {
            throw new IllegalArgumentException("not a CLUSTER NODES line: " + line);
        }
        String addr = f[1];
        int at = addr.indexOf('@');
        String hostPort = at >= 0 ? addr.substring(0, at) : addr;
        int colon = hostPort.lastIndexOf(':');
        String host = hostPort.substring(0, colon);
        int port = Integer.parseInt(hostPort.substring(colon + 1));
        List<SlotRange> slots = new ArrayList<>();
        for (int i = 8; i < f.length; i++) {
            String s = f[i];
            if (s.startsWith("[")) {
                continue; // a slot being migrated or imported: not owned yet
            }
            int dash = s.indexOf('-');
            slots.add(dash < 0 ? new SlotRange(Integer.parseInt(s), Integer.parseInt(s))
                    : new SlotRange(Integer.parseInt(s.substring(0, dash)), Integer.parseInt(s.substring(dash + 1))));
        }
        return new ClusterNode(f[0], host, port, Set.of(f[2].split(",")), f[3], Long.parseLong(f[6]), f[7], slots);
    }
}
