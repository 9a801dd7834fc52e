package io.smartsim.launch.util;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This machine's short host name: what {@code hostname -s} prints, and what the colocated wrapper names a node's files
 * with, so that a check here can tell this machine's node from another's.
 */
public final class HostName {
    private HostName() {
    }

    /**
     * The kernel's host name up to its first dot; the JDK's where {@code /proc} does not have it, and
     * {@code localhost} when neither does.
     */
    public static String shortName() {
        String name;
        try {
            name = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            name = "";
        }
        if (name.isEmpty()) {
            try {
                name = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                name = "localhost";
            }
        }
        return shortName(name);
    }

    /** A host name up to its first dot ({@code login1.cluster.org} -> {@code login1}); one without a dot as it is. */
    public static String shortName(String host) {
        int dot = host.indexOf('.');
        return dot > 0 ? host.substring(0, dot) : host;
    }
}
