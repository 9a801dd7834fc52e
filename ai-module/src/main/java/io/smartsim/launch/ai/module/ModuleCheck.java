package io.smartsim.launch.ai.module;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code doctor}'s check of the AI Redis module: the library is where {@code --ai} finds it (beside this class on the
 * AI class path: the ai-module jar in the AI directory), and redis-server loads it. A throwaway redis-server with
 * {@code --loadmodule} listens on a Unix socket in a temporary directory only (no TCP port), answers
 * {@code MODULE LIST}, and is shut down; the directory is removed. Nothing is left behind.
 *
 * <pre>
 * java -cp AI_DIR/* io.smartsim.launch.ai.module.ModuleCheck --redis-server /usr/bin/redis-server [--timeout-ms 10000]
 * </pre>
 * Prints one line: {@code ok <library> loads in <redis-server>: <the module's MODULE LIST entry>} and exits 0, or
 * {@code failed <why>} and exits 1.
 */
public final class ModuleCheck {
    /** What the check found: whether redis-server loaded the module, and a line saying what happened. */
    public record Result(boolean ok, String line) {
    }

    private ModuleCheck() {
    }

    public static void main(String[] args) {
        String redis = null;
        Duration timeout = Duration.ofSeconds(10);
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                usage("option " + args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--redis-server" -> redis = args[i + 1];
                case "--timeout-ms" -> timeout = Duration.ofMillis(Long.parseLong(args[i + 1]));
                default -> usage("unknown option " + args[i]);
            }
        }
        if (redis == null) {
            usage("--redis-server is required");
        }
        Result r = check(Path.of(redis), timeout);
        System.out.println(r.line());
        System.exit(r.ok() ? 0 : 1);
    }

    private static void usage(String why) {
        System.out.println("failed " + why + "; use --redis-server PATH [--timeout-ms N]");
        System.exit(2);
    }

    /**
     * Finds the library beside this class and has {@code redisServer} (run by the path given: Debian's is a symlink
     * that picks its mode from argv[0]) load it, within {@code timeout}.
     */
    public static Result check(Path redisServer, Duration timeout) {
        Path dir;
        try {
            dir = Files.createTempDirectory("smartsim-ai-check");
        } catch (IOException e) {
            return new Result(false, "cannot make a temporary directory: " + e.getMessage());
        }
        try {
            Path library;
            try {
                library = AiModule.library(dir);
            } catch (IllegalStateException | IOException e) {
                return new Result(false, "the AI module is not on the AI class path: " + e.getMessage());
            }
            return load(redisServer, library, dir, timeout);
        } finally {
            deleteTree(dir);
        }
    }

    /** Starts {@code redisServer --loadmodule library} on a Unix socket in {@code dir}, asks MODULE LIST, stops it. */
    static Result load(Path redisServer, Path library, Path dir, Duration timeout) {
        String where = AiModule.class.getResource(AiModule.FILE_NAME) == null ? library.toString()
                : AiModule.class.getResource(AiModule.FILE_NAME).toString();
        Path socket = dir.resolve("redis.sock");
        Path log = dir.resolve("redis.log");
        Process p;
        try {
            p = new ProcessBuilder(redisServer.toString(), "--port", "0", "--unixsocket", socket.toString(),
                    "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--logfile", "",
                    "--loadmodule", library.toString())
                    .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            return new Result(false, "cannot run " + redisServer + ": " + e.getMessage());
        }
        Instant deadline = Instant.now().plus(timeout);
        try {
            while (true) {
                if (!p.isAlive()) {
                    return new Result(false, redisServer + " did not load " + where + " (exit " + p.exitValue()
                            + "): " + tail(log));
                }
                if (Files.exists(socket)) {
                    try {
                        String modules = moduleList(socket);
                        if (modules.contains("\r\nai\r\n")) {
                            return new Result(true, "ok " + where + " loads in " + redisServer + ": "
                                    + printable(modules));
                        }
                        return new Result(false, redisServer + " started with " + where + " but MODULE LIST has no "
                                + "module 'ai': " + printable(modules));
                    } catch (IOException e) {
                        // not accepting yet: poll again
                    }
                }
                if (Instant.now().isAfter(deadline)) {
                    return new Result(false, redisServer + " with " + where + " did not answer within "
                            + timeout.toMillis() + " ms: " + tail(log));
                }
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(false, "interrupted");
        } finally {
            stop(p);
        }
    }

    /** The raw RESP reply to MODULE LIST on the Unix socket. */
    private static String moduleList(Path socket) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            OutputStream out = Channels.newOutputStream(ch);
            out.write("*2\r\n$6\r\nMODULE\r\n$4\r\nLIST\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = Channels.newInputStream(ch);
            StringBuilder reply = new StringBuilder();
            byte[] buf = new byte[4096];
            // the reply is one array; small enough to end with the last element's CRLF after "ver" and its value
            while (reply.length() < 65536) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                reply.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                if (complete(reply.toString())) {
                    break;
                }
            }
            return reply.toString();
        }
    }

    /** Whether a RESP reply to MODULE LIST is whole: an error, or an array whose every element has arrived. */
    static boolean complete(String r) {
        if (r.startsWith("-")) {
            return r.endsWith("\r\n");
        }
        try {
            return skip(r, 0) == r.length();
        } catch (IndexOutOfBoundsException | NumberFormatException e) {
            return false;
        }
    }

    /** The end of the RESP value starting at {@code i}. */
    private static int skip(String r, int i) {
        int eol = r.indexOf("\r\n", i);
        if (eol < 0) {
            throw new IndexOutOfBoundsException();
        }
        char t = r.charAt(i);
        String head = r.substring(i + 1, eol);
        int next = eol + 2;
        return switch (t) {
            case '*', '%' -> {
                int n = Integer.parseInt(head) * (t == '%' ? 2 : 1);
                for (int k = 0; k < n; k++) {
                    next = skip(r, next);
                }
                yield next;
            }
            case '$' -> {
                int end = next + Integer.parseInt(head) + 2;
                if (end > r.length()) {
                    throw new IndexOutOfBoundsException();
                }
                yield end;
            }
            default -> next;
        };
    }

    /** A RESP reply's values on one line: array and length headers dropped, integers without their colon. */
    static String printable(String resp) {
        StringBuilder sb = new StringBuilder();
        for (String line : resp.split("\r\n")) {
            if (line.isEmpty() || line.startsWith("*") || line.startsWith("%") || line.startsWith("$")) {
                continue;
            }
            sb.append(sb.isEmpty() ? "" : " ").append(line.startsWith(":") || line.startsWith("-") ? line.substring(1) : line);
        }
        return sb.toString();
    }

    private static void stop(Process p) {
        p.destroy(); // SIGTERM: redis-server exits (no save is configured)
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 4), lines.size())).strip();
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // best effort: a temporary directory
        }
    }
}
