package io.smartsim.launch.ai.cluster;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * In a cluster, RedisAI refuses a run whose keys hash to several slots, with Redis's CROSSSLOT text behind an ERR
 * (RedisAI 1.2.7 {@code src/execution/execution_contexts/modelRun_ctx.c}). SmartRedis never triggers it: its keys all
 * carry the shard's prefix (shared/notes/redisai.md section 3). Arguments are read leniently: a malformed command is
 * left to the command itself, which answers with its own error text.
 */
public final class CrossSlot {
    public static final String ERROR = "ERR CROSSSLOT Keys in request don't hash to the same slot";

    private CrossSlot() {
    }

    /** {@link #ERROR} when {@code args} (command name first, upper case in {@code name}) name keys of two slots. */
    public static Optional<String> check(String name, byte[][] args) {
        List<byte[]> keys = keys(name, args);
        if (keys.size() < 2) {
            return Optional.empty();
        }
        int slot = Slots.of(keys.get(0));
        for (byte[] k : keys) {
            if (Slots.of(k) != slot) {
                return Optional.of(ERROR);
            }
        }
        return Optional.empty();
    }

    /** The keys a run command names: its model or script key, then inputs, outputs (and SCRIPTEXECUTE's KEYS). */
    static List<byte[]> keys(String name, byte[][] a) {
        List<byte[]> keys = new ArrayList<>();
        if (a.length < 2) {
            return keys;
        }
        switch (name) {
            case "AI.MODELEXECUTE" -> {
                keys.add(a[1]);
                counted(a, 2, keys, "INPUTS", "OUTPUTS");
            }
            case "AI.SCRIPTEXECUTE" -> {
                keys.add(a[1]);
                counted(a, 3, keys, "KEYS", "INPUTS", "OUTPUTS");
            }
            case "AI.SCRIPTRUN" -> {
                // Deprecated form: INPUTS i1 ... [$ ...] OUTPUTS o1 ..., no counts.
                keys.add(a[1]);
                boolean in = false;
                for (int i = 3; i < a.length; i++) {
                    String w = new String(a[i], StandardCharsets.ISO_8859_1);
                    if (w.equalsIgnoreCase("INPUTS") || w.equalsIgnoreCase("OUTPUTS")) {
                        in = true;
                    } else if (w.equals("$") || w.equalsIgnoreCase("TIMEOUT")) {
                        in = false;
                    } else if (in) {
                        keys.add(a[i]);
                    }
                }
            }
            default -> { }
        }
        return keys;
    }

    /** Reads {@code SECTION n k1 .. kn} groups from {@code from} on, collecting the keys of the named sections. */
    private static void counted(byte[][] a, int from, List<byte[]> keys, String... sections) {
        int i = from;
        while (i + 1 < a.length) {
            String w = new String(a[i], StandardCharsets.ISO_8859_1);
            int n;
            try {
                n = Integer.parseInt(new String(a[i + 1], StandardCharsets.ISO_8859_1));
            } catch (NumberFormatException e) {
                return;
            }
            if (n < 0 || i + 2 + n > a.length) {
                return;
            }
            boolean wanted = false;
            for (String s : sections) {
                wanted |= s.equalsIgnoreCase(w);
            }
            for (int k = i + 2; k < i + 2 + n; k++) {
                if (wanted) {
                    keys.add(a[k]);
                }
            }
            i += 2 + n;
        }
    }
}
