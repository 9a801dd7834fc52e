package io.smartsim.launch.cluster;

import io.smartsim.launch.error.ClusterFormingException;
import io.smartsim.launch.planned.SlotRange;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisDataException;

import java.util.BitSet;
import java.util.List;

/**
 * Slots a shard owns before the cluster is formed: a node started in cluster mode on data from an earlier run, with
 * no cluster state file, takes every slot it holds keys for ("I have keys for unassigned slot N. Taking
 * responsibility for it.", {@code verifyClusterConfigWithData} in Redis's cluster.c, KeyDB alike). Forming then
 * finds {@code CLUSTER ADDSLOTS} refused ("Slot N is already busy"). Those slots are right when the plan gives them
 * to this shard: it then gets only the rest of its range. A slot it owns that the plan gives to another shard means
 * its data is another shard's (or another layout's), and forming stops rather than serve keys from the wrong place.
 */
final class LoadedSlots {
    private LoadedSlots() {
    }

    static boolean busy(JedisDataException e) {
        return e.getMessage() != null && e.getMessage().contains("already busy");
    }

    /**
     * Refuses slots member {@code i} owns outside its plan ({@code nodes}: its {@code CLUSTER NODES} reply after
     * assignment); when its {@code ADDSLOTS} was refused ({@code refused}), gives it the planned slots it lacks.
     */
    static void check(int i, ClusterFormer.Member m, Jedis j, String nodes, boolean refused) {
        ClusterNode me = ClusterNode.parseAll(nodes).stream().filter(ClusterNode::myself).findFirst()
                .orElseThrow(() -> new ClusterFormingException("shard " + i + " at " + m.address()
                        + ": CLUSTER NODES has no 'myself' line"));
        BitSet owned = bits(me.slots());
        BitSet planned = bits(m.slots());
        BitSet foreign = (BitSet) owned.clone();
        foreign.andNot(planned);
        if (!foreign.isEmpty()) {
            throw new ClusterFormingException("shard " + i + " at " + m.address() + " already owns slots "
                    + ranges(foreign) + " outside its planned slots " + m.slots() + ": it loaded keys of those slots "
                    + "from its data file, so that data belongs to another shard or another slot layout; resume with "
                    + "the layout that wrote it, or move the data files back to the shards that own those slots");
        }
        BitSet missing = (BitSet) planned.clone();
        missing.andNot(owned);
        if (!refused || missing.isEmpty()) {
            return;
        }
        String[] args = new String[missing.cardinality() + 1];
        args[0] = "ADDSLOTS";
        int k = 1;
        for (int s = missing.nextSetBit(0); s >= 0; s = missing.nextSetBit(s + 1)) {
            args[k++] = Integer.toString(s);
        }
        j.sendCommand(Protocol.Command.CLUSTER, args);
    }

    static BitSet bits(List<SlotRange> ranges) {
        BitSet b = new BitSet(SlotRange.SLOTS);
        ranges.forEach(r -> b.set(r.first(), r.last() + 1));
        return b;
    }

    static List<SlotRange> ranges(BitSet b) {
        return SlotRange.compress(b.stream().toArray());
    }
}
