package io.smartsim.launch.plan;


import io.smartsim.launch.planned.ShardPlan;
import io.smartsim.launch.planned.LaunchPlan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Linux hands out local ports for outgoing connections from its ephemeral range (32768-60999 by default). A server
 * port inside it can already be held by some client's connection when the shard starts ("Address already in use",
 * seen on a cluster bus port by this project's own benchmark), so a plan whose ports fall there gets a warning.
 */
public final class EphemeralPorts {
    /** Linux's default {@code net.ipv4.ip_local_port_range}. */
    public static final Range DEFAULT = new Range(32768, 60999);
    private static final Path SYSCTL = Path.of("/proc/sys/net/ipv4/ip_local_port_range");

    public record Range(int low, int high) {
        boolean contains(int port) {
            return port >= low && port <= high;
        }
    }

    private EphemeralPorts() {
    }

    /** This machine's range, or Linux's default where it cannot be read. */
    public static Range local() {
        try {
            String[] f = Files.readString(SYSCTL).trim().split("\\s+");
            return new Range(Integer.parseInt(f[0]), Integer.parseInt(f[1]));
        } catch (IOException | RuntimeException e) {
            return DEFAULT;
        }
    }

    /** The warning for {@code plan}'s client and bus ports that fall in {@code range}, if any. Pure. */
    public static Optional<String> warning(LaunchPlan plan, Range range) {
        TreeSet<Integer> inside = new TreeSet<>();
        for (ShardPlan s : plan.shards()) {
            if (range.contains(s.port())) {
                inside.add(s.port());
            }
            if (plan.clustered() && range.contains(s.busPort())) {
                inside.add(s.busPort());
            }
        }
        if (inside.isEmpty()) {
            return Optional.empty();
        }
        int base = plan.spec().port();
        int span = plan.shards().stream().mapToInt(ShardPlan::port).max().orElse(base) - base;
        int safeBase = (plan.clustered() ? range.low() - 1 - io.smartsim.launch.spec.OrchestratorSpec.BUS_PORT_OFFSET
                : range.low() - 1) - span;
        return Optional.of(inside.size() + " of its ports (" + inside.first() + (inside.size() > 1 ? "-" + inside.last()
                : "") + ") lie in the ephemeral port range " + range.low() + "-" + range.high() + ", where the system "
                + "picks ports for outgoing connections: one may already hold a port when its shard starts. "
                + (safeBase >= 1024 ? "A base port of " + safeBase + " or lower keeps them out (or --port auto)."
                : "Use --port auto to skip ports that are taken."));
    }
}
