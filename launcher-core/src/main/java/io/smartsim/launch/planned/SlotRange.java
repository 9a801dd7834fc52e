package io.smartsim.launch.planned;

import java.util.ArrayList;
import java.util.List;

/** An inclusive range of Redis Cluster hash slots. */
public record SlotRange(int first, int last) {
    public static final int SLOTS = 16384;

    public SlotRange {
        if (first < 0 || last >= SLOTS || first > last) {
            throw new IllegalArgumentException("slot range " + first + "-" + last + " is not within 0-" + (SLOTS - 1));
        }
    }

    public int size() {
        return last - first + 1;
    }

    public boolean contains(int slot) {
        return slot >= first && slot <= last;
    }

    /** Every slot of the range, for {@code CLUSTER ADDSLOTS}, which both Redis 7 and KeyDB (Redis 6) understand. */
    public int[] slots() {
        int[] s = new int[size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = first + i;
        }
        return s;
    }

    @Override
    public String toString() {
        return first == last ? Integer.toString(first) : first + "-" + last;
    }

    /**
     * Splits the 16384 slots into {@code masters} contiguous ranges whose sizes differ by at most one,
     * the larger ones first.
     */
    public static List<SlotRange> split(int masters) {
        if (masters < 1 || masters > SLOTS) {
            throw new IllegalArgumentException("cannot split " + SLOTS + " slots over " + masters + " masters");
        }
        List<SlotRange> ranges = new ArrayList<>(masters);
        int base = SLOTS / masters;
        int extra = SLOTS % masters;
        int next = 0;
        for (int i = 0; i < masters; i++) {
            int size = base + (i < extra ? 1 : 0);
            ranges.add(new SlotRange(next, next + size - 1));
            next += size;
        }
        return List.copyOf(ranges);
    }

    /** Merges sorted or unsorted slots into the fewest ranges. */
    public static List<SlotRange> compress(int[] slots) {
        int[] s = slots.clone();
        java.util.Arrays.sort(s);
        List<SlotRange> out = new ArrayList<>();
        int i = 0;
        while (i < s.length) {
            int j = i;
            while (j + 1 < s.length && s[j + 1] <= s[j] + 1) {
                j++;
            }
            out.add(new SlotRange(s[i], s[j]));
            i = j + 1;
        }
        return List.copyOf(out);
    }
}
