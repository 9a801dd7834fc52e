package io.smartsim.launch.exec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runners shared per destination and settings: a status or stop that follows a start in the same pool reuses its
 * session and forwarded ports. Without {@code remote} the runner is this machine's. The process's own pool is
 * {@link Transports#shared()}, which {@link io.smartsim.launch.spi.LauncherContext#process()} hands to launchers;
 * a test may make its own and close it.
 */
public final class TransportPool implements TransportSource, AutoCloseable {
    private static final CommandRunner LOCAL = new LocalCommandRunner();
    private final Map<Map<String, String>, CommandRunner> open = new ConcurrentHashMap<>();

    @Override
    public CommandRunner open(Map<String, String> options) {
        Map<String, String> mine = Transports.options(options);
        String remote = mine.get(Transports.REMOTE);
        if (remote == null) {
            return LOCAL;
        }
        return open.computeIfAbsent(Map.copyOf(mine), key -> {
            TransportProvider p = Transports.provider(remote);
            Map<String, String> settings = new LinkedHashMap<>(key);
            settings.remove(Transports.REMOTE);
            settings.keySet().retainAll(p.optionKeys());
            return p.open(Transports.destination(remote, p), settings);
        });
    }

    /** Closes every remote runner of this pool (their sessions and forwarded ports); the pool can be used again. */
    @Override
    public void close() {
        List<CommandRunner> all = new ArrayList<>(open.values());
        open.clear();
        all.forEach(CommandRunner::close);
    }
}
