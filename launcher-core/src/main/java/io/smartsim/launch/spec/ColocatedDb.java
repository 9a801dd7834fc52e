package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A colocated database: one standalone server on every node of a model, started by the first rank on the node before
 * the application, stopped when the last rank on the node has ended, reached over loopback TCP or a Unix socket
 * (docs/colocated.md). Immutable; the one-argument methods return a changed copy:
 *
 * <pre>{@code
 * ColocatedDb.tcp(6780).cpus(2)                    // pinned to CPUs 0-1
 * ColocatedDb.unixSocket("/tmp/ssdb.sock", 0755).pinning("1")
 * }</pre>
 *
 * @param port              the TCP port (on 127.0.0.1 and the {@code interfaces}); empty for a socket
 * @param socket            the Unix socket's absolute path; empty for TCP
 * @param socketPermissions the socket's permission bits (octal 0755 = rwxr-xr-x); 0 for TCP
 * @param cpus              threads of the server ({@code io-threads} for Redis, {@code server-threads} for KeyDB)
 * @param pinning           the CPU list for {@code taskset -c}, for example {@code "0-1"}; empty: {@code 0..cpus-1};
 *                          {@code ""}: not pinned
 * @param interfaces        network interfaces to bind besides loopback (TCP only), for example {@code ib0}
 * @param backend           redis or keydb
 * @param extraConfig       extra server config lines
 * @param models            models stored before the application starts on a node (through the smartsim-ai module
 *                          and a model server beside the database on each node)
 * @param scripts           TorchScripts stored the same way
 */
public record ColocatedDb(Optional<Integer> port, Optional<Path> socket, int socketPermissions, int cpus,
                          Optional<String> pinning, List<String> interfaces, Backend backend,
                          List<String> extraConfig, List<ColocatedModel> models, List<ColocatedScript> scripts) {
    /** The longest Unix socket path: {@code sun_path} holds 108 bytes with the terminating NUL. */
    public static final int MAX_SOCKET_PATH = 107;
    private static final Pattern SOCKET_CHARS = Pattern.compile("[A-Za-z0-9._/-]+");
    private static final Pattern CPU_LIST = Pattern.compile("[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*");
    private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9._:-]{1,15}");
    /** Options the generated config and the wrapper set themselves: an extra line would silently fight them. */
    private static final List<String> MANAGED = List.of("port", "bind", "unixsocket", "unixsocketperm",
            "daemonize", "logfile", "dir", "cluster-enabled", "io-threads", "server-threads");

    public ColocatedDb {
        port = port == null ? Optional.empty() : port;
        socket = socket == null ? Optional.empty() : socket;
        pinning = pinning == null ? Optional.empty() : pinning;
        interfaces = List.copyOf(interfaces == null ? List.of() : interfaces);
        extraConfig = List.copyOf(extraConfig == null ? List.of() : extraConfig);
        backend = backend == null ? Backend.REDIS : backend;
        models = List.copyOf(models == null ? List.of() : models);
        scripts = List.copyOf(scripts == null ? List.of() : scripts);
        java.util.Set<String> keys = new java.util.HashSet<>();
        for (String k : java.util.stream.Stream.concat(models.stream().map(ColocatedModel::name),
                scripts.stream().map(ColocatedScript::name)).toList()) {
            if (!keys.add(k)) {
                throw new InvalidSpecException("colocatedDb.models", "two models or scripts are named '" + k
                        + "' and would be stored under one key; rename one");
            }
        }
        if (port.isPresent() == socket.isPresent()) {
            throw new InvalidSpecException("colocatedDb", "give either a TCP port or a Unix socket path, not "
                    + (port.isPresent() ? "both" : "neither") + " (ColocatedDb.tcp(6780) or "
                    + "ColocatedDb.unixSocket(\"/tmp/ssdb.sock\", 0755); in YAML port: or unixSocket:)");
        }
        port.ifPresent(p -> {
            if (p < 1 || p > 65535) {
                throw new InvalidSpecException("colocatedDb.port", p + " is not a TCP port; use 1-65535, for example "
                        + "6780");
            }
        });
        socket.ifPresent(ColocatedDb::checkSocket);
        if (socket.isPresent() && (socketPermissions < 0 || socketPermissions > 0777)) {
            throw new InvalidSpecException("colocatedDb.socketPermissions", "0" + Integer.toOctalString(
                    socketPermissions) + " is not a permission mode; use octal 000-777, for example 755 (0755 in Java)");
        }
        if (socket.isPresent() && (socketPermissions & 0600) != 0600) {
            throw new InvalidSpecException("colocatedDb.socketPermissions", "0" + Integer.toOctalString(
                    socketPermissions) + " leaves the owner unable to connect (the wrapper checks the server with "
                    + "PING); give the owner read and write, for example 700 or 755");
        }
        if (port.isPresent()) {
            socketPermissions = 0;
        }
        if (cpus < 1) {
            throw new InvalidSpecException("colocatedDb.cpus", cpus + " is not a CPU count; use 1 or more");
        }
        pinning.ifPresent(p -> {
            if (!p.isEmpty() && !CPU_LIST.matcher(p).matches()) {
                throw new InvalidSpecException("colocatedDb.pinning", "'" + p + "' is not a CPU list; use numbers and "
                        + "ranges as taskset -c takes them, for example 0-1 or 0,2, or an empty list for no pinning");
            }
        });
        if (socket.isPresent() && !interfaces.isEmpty()) {
            throw new InvalidSpecException("colocatedDb.interfaces", "a database on a Unix socket listens on no "
                    + "interface; remove interfaces, or use a TCP port");
        }
        for (String i : interfaces) {
            if (i == null || !INTERFACE.matcher(i).matches()) {
                throw new InvalidSpecException("colocatedDb.interfaces", "'" + i + "' is not an interface name; give "
                        + "names as ip link lists them, for example ib0 (loopback is always bound)");
            }
        }
        for (String line : extraConfig) {
            if (line == null || line.isBlank() || line.contains("\n") || line.contains("\r")) {
                throw new InvalidSpecException("colocatedDb.config", "an empty or multi-line config line; give one "
                        + "server option per line, for example 'maxmemory 1gb'");
            }
            String option = line.trim().split("\\s+")[0].toLowerCase(Locale.ROOT);
            if (MANAGED.contains(option)) {
                throw new InvalidSpecException("colocatedDb.config", "'" + line + "' sets " + option + ", which the "
                        + "colocated database sets itself (port/unixSocket, cpus, interfaces; standalone, logs in the "
                        + "model's directory); remove the line and use the field");
            }
        }
    }

    private static void checkSocket(Path p) {
        String s = p.toString();
        if (!p.isAbsolute()) {
            throw new InvalidSpecException("colocatedDb.unixSocket", "'" + s + "' is not an absolute path; give one, "
                    + "for example /tmp/ssdb.sock");
        }
        if (!SOCKET_CHARS.matcher(s).matches()) {
            throw new InvalidSpecException("colocatedDb.unixSocket", "'" + s + "' has characters other than letters, "
                    + "digits, '.', '_', '-' and '/'; rename it, for example /tmp/ssdb.sock");
        }
        int bytes = s.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_SOCKET_PATH) {
            throw new InvalidSpecException("colocatedDb.unixSocket", "'" + s + "' is " + bytes + " bytes long, but a "
                    + "Unix socket path holds at most " + MAX_SOCKET_PATH + "; choose a shorter one, for example under "
                    + "/tmp");
        }
        if (s.endsWith("/")) {
            throw new InvalidSpecException("colocatedDb.unixSocket", "'" + s + "' names a directory; give the "
                    + "socket's file name too, for example " + s + "ssdb.sock");
        }
    }

    /** A database on TCP {@code port} of 127.0.0.1: one CPU, pinned to CPU 0, Redis. */
    public static ColocatedDb tcp(int port) {
        return new ColocatedDb(Optional.of(port), Optional.empty(), 0, 1, Optional.empty(), List.of(), Backend.REDIS,
                List.of(), List.of(), List.of());
    }

    /** A database on the Unix socket {@code path} with {@code permissions} (octal, for example 0755). */
    public static ColocatedDb unixSocket(String path, int permissions) {
        return new ColocatedDb(Optional.empty(), Optional.of(Path.of(path)), permissions, 1, Optional.empty(),
                List.of(), Backend.REDIS, List.of(), List.of(), List.of());
    }

    public ColocatedDb cpus(int n) {
        return new ColocatedDb(port, socket, socketPermissions, n, pinning, interfaces, backend, extraConfig, models,
                scripts);
    }

    /** The CPU list for {@code taskset -c} ("0-1", "1", "0,2"); {@code ""} for none. */
    public ColocatedDb pinning(String cpuList) {
        return new ColocatedDb(port, socket, socketPermissions, cpus, Optional.of(cpuList == null ? "" : cpuList),
                interfaces, backend, extraConfig, models, scripts);
    }

    /** Not pinned: the server may run on any CPU. */
    public ColocatedDb noPinning() {
        return pinning("");
    }

    public ColocatedDb interfaces(String... names) {
        return new ColocatedDb(port, socket, socketPermissions, cpus, pinning, List.of(names), backend, extraConfig,
                models, scripts);
    }

    public ColocatedDb backend(Backend b) {
        return new ColocatedDb(port, socket, socketPermissions, cpus, pinning, interfaces, b, extraConfig, models,
                scripts);
    }

    /** Adds server config lines (for example {@code "maxmemory 1gb"}). */
    public ColocatedDb config(String... lines) {
        List<String> all = new ArrayList<>(extraConfig);
        all.addAll(List.of(lines));
        return new ColocatedDb(port, socket, socketPermissions, cpus, pinning, interfaces, backend, all, models,
                scripts);
    }

    /** The same database on another port or socket (an ensemble member's own). */
    public ColocatedDb at(Optional<Integer> newPort, Optional<Path> newSocket) {
        return new ColocatedDb(newPort, newSocket, socketPermissions, cpus, pinning, interfaces, backend, extraConfig,
                models, scripts);
    }

    /**
     * Adds a model stored before the application starts on each node: {@code AI.MODELSTORE name backend device BLOB
     * <file>} (TF, TORCH, ONNX, TFLITE; CPU or GPU[:n]).
     */
    public ColocatedDb withModel(String name, String backend, String device, String file) {
        return withModel(ColocatedModel.of(name, backend, device, file));
    }

    /** Adds a model with its batch settings or a TF graph's node names ({@link ColocatedModel#batching}). */
    public ColocatedDb withModel(ColocatedModel m) {
        List<ColocatedModel> all = new ArrayList<>(models);
        all.add(m);
        return new ColocatedDb(port, socket, socketPermissions, cpus, pinning, interfaces, backend, extraConfig, all,
                scripts);
    }

    /** Adds a TorchScript stored before the application starts: {@code AI.SCRIPTSET name device SOURCE <file>}. */
    public ColocatedDb withScript(String name, String device, String file) {
        List<ColocatedScript> all = new ArrayList<>(scripts);
        all.add(ColocatedScript.of(name, device, file));
        return new ColocatedDb(port, socket, socketPermissions, cpus, pinning, interfaces, backend, extraConfig,
                models, all);
    }

    /** The same with every model's and script's file resolved against {@code base} (the spec's base directory). */
    public ColocatedDb resolvedAgainst(Path base) {
        return new ColocatedDb(port, socket, socketPermissions, cpus, pinning, interfaces, backend, extraConfig,
                models.stream().map(m -> m.resolvedAgainst(base)).toList(),
                scripts.stream().map(s -> s.resolvedAgainst(base)).toList());
    }

    /** The backends its models and scripts need (TORCH for a script), in {@link ColocatedModel#BACKENDS} order. */
    public List<String> aiBackends() {
        java.util.Set<String> used = new java.util.HashSet<>();
        models.forEach(m -> used.add(m.backend()));
        if (!scripts.isEmpty()) {
            used.add("TORCH");
        }
        return ColocatedModel.BACKENDS.stream().filter(used::contains).toList();
    }

    /** The CPU list taskset gets: the one given, or {@code 0..cpus-1}; empty for none. */
    public String cpuList() {
        return pinning.orElse(cpus == 1 ? "0" : "0-" + (cpus - 1));
    }

    /** What the application reads from {@code SSDB}: {@code 127.0.0.1:PORT} or {@code unix:///path}. */
    public String ssdb() {
        return port.map(p -> "127.0.0.1:" + p).orElseGet(() -> "unix://" + socket.orElseThrow());
    }
}
