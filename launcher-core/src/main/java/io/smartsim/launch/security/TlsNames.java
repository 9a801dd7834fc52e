package io.smartsim.launch.security;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The names a {@code --tls} server certificate lists in subjectAltName: the shards' hosts and bind addresses as
 * planned, plus what this machine resolves each host name to. A Slurm or PBS shard binds the address its node
 * resolves its own name to (or its {@code --interface}), which on a cluster is what the launching machine resolves
 * that name to as well; with {@code --interface}, or in a batch job whose nodes are only known once it runs, the
 * certificate cannot name the address, and clients must verify the CA chain only (ours and redis-cli do: see
 * docs/security.md). The planners' stand-ins for nodes known only at run time ({@code batch-node-N}) are left out.
 */
public final class TlsNames {
    /** The host names Slurm's and PBS's {@code place} give nodes of a batch job before it runs. */
    private static final Pattern PLACEHOLDER = Pattern.compile("batch-node-[0-9]+");
    private static final Pattern ADDRESS = Pattern.compile("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    private TlsNames() {
    }

    /** {@code planned} (hosts and addresses) with this machine's addresses for each host name, in order. */
    public static List<String> of(Collection<String> planned) {
        return of(planned, TlsNames::resolveHere);
    }

    /** As {@link #of(Collection)}, resolving names with {@code resolve} (for tests: no DNS). */
    static List<String> of(Collection<String> planned, Function<String, List<String>> resolve) {
        Set<String> out = new LinkedHashSet<>();
        for (String n : planned) {
            if (n == null || n.isBlank() || PLACEHOLDER.matcher(n).matches()) {
                continue;
            }
            out.add(n);
            if (!ADDRESS.matcher(n).matches()) {
                out.addAll(resolve.apply(n));
            }
        }
        return new ArrayList<>(out);
    }

    /** The addresses {@code name} resolves to here (hosts file, DNS); none when it does not resolve. */
    private static List<String> resolveHere(String name) {
        try {
            List<String> out = new ArrayList<>();
            for (InetAddress a : InetAddress.getAllByName(name)) {
                out.add(a.getHostAddress());
            }
            return out;
        } catch (UnknownHostException | SecurityException e) {
            return List.of(); // the node may know a name this machine does not; the DNS entry stays
        }
    }
}
