package io.smartsim.launch.exec;

import io.smartsim.launch.error.InvalidSpecException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The transport's part of launcher options: this machine, or, with {@code remote=user@login-host[:port]}, a
 * {@link TransportProvider} found through {@link ServiceLoader} (launcher-ssh); its keys, their check, and what of
 * them may be recorded. Launchers get their runners from the {@link TransportSource} in their
 * {@link io.smartsim.launch.spi.LauncherContext} (with their spec's options when they start, and with a shard's
 * recorded handle, {@link CommandRunner#recorded()}, for status and stop) and never learn which transport it was.
 *
 * <p>The process's own {@link TransportPool} is {@link #shared()}: remote runners are shared per destination and
 * settings within a process, so a status or stop that follows a start reuses its session and forwarded ports; they
 * use daemon threads and end with the process, or with {@link #closeAll()}.
 */
public final class Transports {
    /** The launcher option naming the login node: {@code [scheme://]user@host[:port]}; absent means this machine. */
    public static final String REMOTE = "remote";
    /** The scheme of a remote written without one ({@code user@host}). */
    public static final String DEFAULT_SCHEME = "ssh";
    private static final TransportPool SHARED = new TransportPool();

    private Transports() {
    }

    private static List<TransportProvider> providers() {
        List<TransportProvider> all = new ArrayList<>();
        ServiceLoader.load(TransportProvider.class, Transports.class.getClassLoader()).forEach(all::add);
        return all;
    }

    /** Every launcher-option key a transport reads: {@code remote} and each provider's settings. */
    public static Set<String> optionKeys() {
        Set<String> keys = new TreeSet<>(Set.of(REMOTE));
        providers().forEach(p -> keys.addAll(p.optionKeys()));
        return keys;
    }

    /** The transport's part of {@code options}: {@code remote} and the settings of the provider it names. */
    public static Map<String, String> options(Map<String, String> options) {
        Map<String, String> out = new TreeMap<>();
        Set<String> keys = optionKeys();
        options.forEach((k, v) -> {
            if (keys.contains(k)) {
                out.put(k, v);
            }
        });
        return out;
    }

    /**
     * {@code options} without the one-time permissions any transport grants ({@link TransportProvider#oneTimeKeys()},
     * such as {@code accept-new-host-key}): what may be recorded in the manifest. The rest is kept, in order.
     */
    public static Map<String, String> recordable(Map<String, String> options) {
        Set<String> oneTime = new TreeSet<>();
        providers().forEach(p -> oneTime.addAll(p.oneTimeKeys()));
        Map<String, String> out = new LinkedHashMap<>(options);
        out.keySet().removeAll(oneTime);
        return out;
    }

    /**
     * Checks the transport's part of {@code options}: a remote needs a provider on the class path, and SSH settings
     * without a remote are a mistake (for a launcher that takes them only for its transport).
     */
    public static void check(Map<String, String> options, String launcher) {
        Map<String, String> mine = options(options);
        if (!mine.containsKey(REMOTE)) {
            if (!mine.isEmpty()) {
                throw new InvalidSpecException("launcherOptions", new TreeSet<>(mine.keySet()) + " only apply with "
                        + "--remote user@login-host (the " + launcher + " launcher runs its commands on this machine "
                        + "otherwise); add --remote or remove them");
            }
            return;
        }
        provider(mine.get(REMOTE));
    }

    /** This process's pool of runners, the one {@link io.smartsim.launch.spi.LauncherContext#process()} hands out. */
    public static TransportPool shared() {
        return SHARED;
    }

    /**
     * The runner for these options from this process's pool ({@link #shared()}), the one a launcher found by name is
     * given: for tests that look where such a launcher runs its commands. Launchers use the source in their context
     * ({@link io.smartsim.launch.spi.LauncherContext}), core the launcher's {@code transport(spec)}. Do not close it.
     */
    public static CommandRunner open(Map<String, String> options) {
        return SHARED.open(options);
    }

    /** Closes every remote runner of this process's pool (their sessions and forwarded ports): as a new process. */
    public static void closeAll() {
        SHARED.close();
    }

    static TransportProvider provider(String remote) {
        if (remote == null || remote.isBlank()) {
            throw new InvalidSpecException("launcherOptions." + REMOTE, "empty; give the login node as "
                    + "user@host[:port] or an ssh config Host alias");
        }
        List<TransportProvider> all = providers();
        int sep = remote.indexOf("://");
        String scheme = sep > 0 ? remote.substring(0, sep) : DEFAULT_SCHEME;
        TreeSet<String> schemes = new TreeSet<>();
        for (TransportProvider p : all) {
            if (p.scheme().equals(scheme)) {
                return p;
            }
            schemes.add(p.scheme());
        }
        throw new InvalidSpecException("launcherOptions." + REMOTE, all.isEmpty()
                ? "--remote " + remote + " needs a remote transport, but none is on the class path (launcher-ssh "
                        + "provides SSH)"
                : "no transport for scheme '" + scheme + "' in " + remote + "; available: " + schemes);
    }

    static String destination(String remote, TransportProvider p) {
        String prefix = p.scheme() + "://";
        return remote.startsWith(prefix) ? remote.substring(prefix.length()) : remote;
    }
}
