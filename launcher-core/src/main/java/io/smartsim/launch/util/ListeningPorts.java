package io.smartsim.launch.util;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The listening TCP sockets of a node, read there from {@code /proc/net/tcp} and {@code /proc/net/tcp6} (always
 * present on Linux, unlike {@code ss} or {@code netstat}), for {@code --port auto} on nodes this process cannot bind
 * on. Pure: {@link #command} is the argv a launcher runs on each node (over SSH, as a Slurm step, through a PBS run
 * command) and {@link #parse} reads what the nodes printed, any number of them in one output.
 */
public final class ListeningPorts {
    /**
     * Prints {@code listen NODE HEXADDR:HEXPORT} for each socket in state 0A (listen), then {@code done NODE}; the
     * node's name is the first argument, or Slurm's {@code SLURMD_NODENAME} in a step, or {@code hostname}. Exits 3
     * when neither table can be read (not Linux): no answer, rather than "nothing listens".
     */
    static final String SCRIPT = String.join("\n",
            "h=$1",
            "[ -n \"$h\" ] || h=${SLURMD_NODENAME:-$(hostname)}",
            "n=0",
            "for f in /proc/net/tcp /proc/net/tcp6; do",
            "  [ -r \"$f\" ] || continue",
            "  awk -v h=\"$h\" 'NR > 1 && $4 == \"0A\" { print \"listen\", h, $2 }' \"$f\" || exit 1",
            "  n=$((n + 1))",
            "done",
            "[ \"$n\" -gt 0 ] || { echo \"no /proc/net/tcp on $h: cannot tell its listening ports\" >&2; exit 3; }",
            "echo \"done $h\"");

    /**
     * Prints who holds a listening TCP port on the node: {@code pid PID COMM} for each process whose file descriptors
     * link to a listening socket on the port (as {@link PortOwners} does here), or {@code uid UID} when none can be
     * seen (another user's process: its descriptors are not ours to read). Prints nothing when nothing listens.
     */
    static final String OWNERS_SCRIPT = String.join("\n",
            "hex=$(printf '%04X' \"$1\")",
            "for f in /proc/net/tcp /proc/net/tcp6; do",
            "  [ -r \"$f\" ] && awk -v p=\"$hex\" 'NR > 1 && $4 == \"0A\" { split($2, a, \":\"); "
                    + "if (a[2] == p) print $8, $10 }' \"$f\"",
            "done | while read -r uid inode; do",
            "  pids=$(find /proc/[0-9]*/fd -lname \"socket:\\[$inode\\]\" 2>/dev/null | cut -d/ -f3 | sort -u)",
            "  if [ -n \"$pids\" ]; then",
            "    for p in $pids; do echo \"pid $p $(cat /proc/$p/comm 2>/dev/null)\"; done",
            "  else",
            "    echo \"uid $uid\"",
            "  fi",
            "done",
            "exit 0");

    /** The file name of {@link #heldScript()} in an orchestrator's directory. */
    public static final String HELD_SCRIPT = "ports-held.sh";

    /**
     * A script for the nodes (bash): {@code ports-held.sh 'PORT ...' ADDRESS...} prints the first of the ports that
     * something already listens on, on one of the addresses or on every address, and who holds it ({@code 6780 pid
     * 1234 (redis-server)}, as {@link #OWNERS_SCRIPT} finds it); nothing when all are free.
     */
    public static String heldScript() {
        return io.smartsim.launch.script.Template.resource(ListeningPorts.class, HELD_SCRIPT).render(Map.of());
    }

    /**
     * A block for a shard's wrapper (bash), run on the node before it reports and execs the server: when
     * {@code script} ({@link #heldScript()}, on the shared file system) finds one of {@code ports} taken on the
     * addresses in the bash array {@code addrsVar}, the wrapper stops through its {@code fail CODE MESSAGE} (exit code
     * 4), naming the holder. Where no launcher could look first (a batch job's nodes are only known inside it), a busy
     * fixed port so still fails before the server starts.
     */
    public static String wrapperCheck(List<Integer> ports, String addrsVar, java.nio.file.Path script) {
        String list = ports.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(" "));
        return String.join("\n",
                "# A port the shard needs that something on this node already listens on (on an address it binds, or on",
                "# every address) stops it here, before the server starts, naming the holder (" + HELD_SCRIPT
                        + " reads /proc).",
                "busy=$(/bin/bash " + io.smartsim.launch.script.Shell.quote(script.toString()) + " '" + list + "' \"${"
                        + addrsVar + "[@]}\")",
                "if [ -n \"$busy\" ]; then",
                "    fail 4 \"port ${busy%% *} is taken on node $node (${" + addrsVar + "[*]}), held by ${busy#* }; \"\\",
                "\"choose another --port, or --port auto\"",
                "fi",
                "");
    }

    private ListeningPorts() {
    }

    /** The argv that prints who holds {@code port} on the node ({@link #OWNERS_SCRIPT}). */
    public static List<String> owners(int port) {
        return List.of("sh", "-c", OWNERS_SCRIPT, "sh", Integer.toString(port));
    }

    /**
     * A phrase such as "held by pid 1234 (redis-server)" from what {@link #owners} printed, or empty when it printed
     * nothing usable.
     */
    public static java.util.Optional<String> heldBy(String stdout) {
        Set<String> who = new LinkedHashSet<>();
        for (String line : stdout.split("\n")) {
            String[] w = line.strip().split("\\s+", 3);
            if (w.length >= 2 && w[0].equals("pid") && w[1].chars().allMatch(Character::isDigit)) {
                who.add("pid " + w[1] + (w.length == 3 && !w[2].isBlank() ? " (" + w[2].strip() + ")" : ""));
            } else if (w.length == 2 && w[0].equals("uid") && w[1].chars().allMatch(Character::isDigit)) {
                who.add("a process of uid " + w[1] + " that this user cannot inspect");
            }
        }
        return who.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of("held by " + String.join(", ", who));
    }

    /** One listening socket: its local address (textual, {@code 0.0.0.0} or {@code ::} for any) and port. */
    public record Listener(String address, int port) {
        /** Bound to every address of the node. */
        public boolean anyAddress() {
            return address.equals("0.0.0.0") || address.equals("::");
        }

        /**
         * Whether this socket keeps a server from binding {@code port} on one of {@code bindAddresses}: it listens on
         * every address, or on one of them. With no addresses known (the node picks its own at launch) any listener
         * on the port counts.
         */
        public boolean blocks(List<String> bindAddresses, int port) {
            if (this.port != port) {
                return false;
            }
            if (bindAddresses.isEmpty() || anyAddress()) {
                return true;
            }
            return bindAddresses.stream().anyMatch(a -> a.equals(address) || a.equals("0.0.0.0") || a.equals("::"));
        }
    }

    /** The argv that prints the node's listeners; {@code node} names it in the output ("" for the default). */
    public static List<String> command(String node) {
        return List.of("sh", "-c", SCRIPT, "sh", node);
    }

    /**
     * Node name to its listeners, for each node that printed its {@code done} line (a node missing here did not
     * answer in full). Other lines (a scheduler's notices) are ignored.
     */
    public static Map<String, Set<Listener>> parse(String stdout) {
        Map<String, Set<Listener>> seen = new LinkedHashMap<>();
        Set<String> done = new LinkedHashSet<>();
        for (String line : stdout.split("\n")) {
            String[] w = line.strip().split("\\s+");
            if (w.length == 3 && w[0].equals("listen")) {
                Listener l = listener(w[2]);
                if (l != null) {
                    seen.computeIfAbsent(w[1], k -> new LinkedHashSet<>()).add(l);
                }
            } else if (w.length == 2 && w[0].equals("done")) {
                done.add(w[1]);
            }
        }
        Map<String, Set<Listener>> out = new LinkedHashMap<>();
        for (String node : done) {
            out.put(node, Set.copyOf(seen.getOrDefault(node, Set.of())));
        }
        return out;
    }

    /**
     * A {@code /proc/net/tcp} local address: {@code 0100007F:1A0B} is 127.0.0.1:6667 (the address in the kernel's
     * byte order, each 32-bit word little-endian on the machines this runs on; the port big-endian). Null when
     * malformed.
     */
    static Listener listener(String field) {
        int colon = field.indexOf(':');
        if (colon < 0) {
            return null;
        }
        String hex = field.substring(0, colon);
        if (hex.length() != 8 && hex.length() != 32) {
            return null;
        }
        try {
            int port = Integer.parseInt(field.substring(colon + 1), 16);
            byte[] addr = new byte[hex.length() / 2];
            for (int word = 0; word < addr.length / 4; word++) {
                for (int b = 0; b < 4; b++) {
                    int at = word * 8 + (3 - b) * 2;
                    addr[word * 4 + b] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
                }
            }
            // A v4-mapped v6 address (::ffff:a.b.c.d) comes back as the v4 one, as a v4 bind sees it.
            InetAddress a = InetAddress.getByAddress(addr);
            String text = a.getHostAddress();
            if (text.equals("0:0:0:0:0:0:0:0")) {
                text = "::";
            }
            return new Listener(text, port);
        } catch (NumberFormatException | UnknownHostException e) {
            return null;
        }
    }

    /** The nodes of {@code expected} missing from a parsed answer. */
    public static List<String> missing(List<String> expected, Map<String, Set<Listener>> parsed) {
        List<String> out = new ArrayList<>();
        expected.stream().distinct().filter(n -> !parsed.containsKey(n)).forEach(out::add);
        return out;
    }
}
