package io.smartsim.launch.experiment;

import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.security.OwnerOnly;
import io.smartsim.launch.spi.TlsFiles;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The checkpoint data files of an orchestrator's shards, where they live: on this machine's file system (the local,
 * ssh and in-cluster Slurm/PBS launchers: the experiment directory is here, or on a file system shared with the nodes),
 * or behind a login node ({@code --remote}: the experiment directory's path on the cluster's file system, reached
 * through the launcher's own session, {@link CommandRunner#run}). {@link Resume} and {@link ShardShutdown} ask it
 * which data exists, how big and how new it is, and have it copy and remove data; they never touch {@code java.nio}
 * for data themselves.
 *
 * <p>Behind a login node each question is one command ({@code find}, {@code cp}, {@code rm}, {@code mkdir},
 * {@code chmod}; GNU coreutils and findutils, as on every Linux login node), an argv, never a shell string.
 */
abstract class DataFiles {
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** Where the files are, for messages: "localhost" or the login node. */
    abstract String where();

    /**
     * Size and last change of each path that exists: a file's own, or, for a directory (Redis 7's AOF), the sum of
     * its files' sizes and the newest of their times. Paths that do not exist (or cannot be read) are absent.
     */
    abstract Map<Path, ShardShutdown.FileFacts> facts(List<Path> paths);

    final Optional<ShardShutdown.FileFacts> facts(Path path) {
        return Optional.ofNullable(facts(List.of(path)).get(path));
    }

    /**
     * Replaces {@code to} with a copy of {@code from} (a file, or a directory with its files), owner-only, creating its
     * parent. What was at {@code to} is removed first: an older AOF directory's files of other names would otherwise
     * stay beside the copy (unused by the server, but counted and kept).
     */
    abstract void copy(Path from, Path to) throws IOException;

    /** Removes {@code path} and everything under it; no error when it does not exist. */
    final void delete(Path path) throws IOException {
        delete(List.of(path));
    }

    /** Removes each path and everything under it (one command behind a login node); no error for those missing. */
    abstract void delete(List<Path> paths) throws IOException;

    /** This machine's file system. */
    static DataFiles local() {
        return Local.INSTANCE;
    }

    /** The files where {@code runner} runs its commands: this machine's, or the login node's for a remote transport. */
    static DataFiles of(CommandRunner runner) {
        return TlsFiles.remote(runner) ? new Remote(runner) : local();
    }

    /** {@code java.nio} on this machine. */
    private static final class Local extends DataFiles {
        static final Local INSTANCE = new Local();

        @Override
        String where() {
            return "localhost";
        }

        @Override
        Map<Path, ShardShutdown.FileFacts> facts(List<Path> paths) {
            Map<Path, ShardShutdown.FileFacts> out = new LinkedHashMap<>();
            for (Path p : paths) {
                of(p).ifPresent(f -> out.put(p, f));
            }
            return out;
        }

        private static Optional<ShardShutdown.FileFacts> of(Path path) {
            try {
                if (Files.isRegularFile(path)) {
                    return Optional.of(new ShardShutdown.FileFacts(Files.size(path),
                            Files.getLastModifiedTime(path).toInstant()));
                }
                if (Files.isDirectory(path)) {
                    long bytes = 0;
                    Instant newest = Instant.EPOCH;
                    try (Stream<Path> files = Files.list(path)) {
                        for (Path f : files.filter(Files::isRegularFile).toList()) {
                            bytes += Files.size(f);
                            Instant m = Files.getLastModifiedTime(f).toInstant();
                            newest = m.isAfter(newest) ? m : newest;
                        }
                    }
                    return Optional.of(new ShardShutdown.FileFacts(bytes, newest));
                }
            } catch (IOException e) {
                // not readable from here: nothing known
            }
            return Optional.empty();
        }

        @Override
        void copy(Path from, Path to) throws IOException {
            OwnerOnly.createDirectory(to.getParent());
            delete(to);
            copyTree(from, to);
        }

        private static void copyTree(Path from, Path to) throws IOException {
            if (Files.isDirectory(from)) {
                OwnerOnly.createDirectory(to);
                try (Stream<Path> files = Files.list(from)) {
                    for (Path f : files.toList()) {
                        copyTree(f, to.resolve(f.getFileName().toString()));
                    }
                }
            } else {
                Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
                OwnerOnly.restrict(to, OwnerOnly.FILE);
            }
        }

        @Override
        void delete(List<Path> paths) throws IOException {
            for (Path p : paths) {
                deleteTree(p);
            }
        }

        private static void deleteTree(Path p) throws IOException {
            if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                try (Stream<Path> files = Files.list(p)) {
                    for (Path f : files.toList()) {
                        deleteTree(f);
                    }
                }
            }
            Files.deleteIfExists(p);
        }
    }

    /** Commands run through the launcher's transport on the login node. */
    private static final class Remote extends DataFiles {
        private final CommandRunner runner;

        Remote(CommandRunner runner) {
            this.runner = runner;
        }

        @Override
        String where() {
            return runner.where();
        }

        @Override
        Map<Path, ShardShutdown.FileFacts> facts(List<Path> paths) {
            if (paths.isEmpty()) {
                return Map.of();
            }
            CommandResult r = runner.run(findArgv(paths), TIMEOUT);
            // find exits 1 when some path does not exist (said on stderr) and still lists the others.
            if (r.exitCode() > 1) {
                throw new LaunchException("cannot look at the checkpoint data on " + where() + ": " + r.describe());
            }
            return parseFind(paths, r.stdout());
        }

        @Override
        void copy(Path from, Path to) throws IOException {
            must(List.of("mkdir", "-p", "--", to.getParent().toString()));
            must(List.of("chmod", "700", "--", to.getParent().toString()));
            delete(to);
            // -T: 'to' is the destination itself (never 'to/from-name')
            must(List.of("cp", "-R", "-p", "-T", "--", from.toString(), to.toString()));
            must(List.of("chmod", "-R", "u+rwX,go=", "--", to.toString()));
        }

        @Override
        void delete(List<Path> paths) throws IOException {
            if (paths.isEmpty()) {
                return;
            }
            List<String> argv = new ArrayList<>(List.of("rm", "-rf", "--"));
            paths.forEach(p -> argv.add(p.toString()));
            must(argv);
        }

        private void must(List<String> argv) throws IOException {
            CommandResult r = runner.run(argv, TIMEOUT);
            if (!r.ok()) {
                throw new IOException("on " + where() + ": " + r.describe());
            }
        }
    }

    /**
     * The one {@code find} that describes {@code paths} and, for directories, their files: one line each, depth,
     * type, size, modification time in seconds since the epoch, path.
     */
    static List<String> findArgv(List<Path> paths) {
        List<String> argv = new ArrayList<>(List.of("find"));
        paths.forEach(p -> argv.add(p.toString()));
        argv.addAll(List.of("-maxdepth", "1", "-printf", "%d %y %s %T@ %p\\n"));
        return List.copyOf(argv);
    }

    /** The facts of {@code asked} from {@link #findArgv}'s output; paths find did not list are absent. */
    static Map<Path, ShardShutdown.FileFacts> parseFind(List<Path> asked, String out) {
        Map<Path, long[]> bytes = new LinkedHashMap<>();
        Map<Path, Instant> newest = new LinkedHashMap<>();
        Map<Path, Character> types = new LinkedHashMap<>();
        for (String line : out.lines().toList()) {
            String[] f = line.split(" ", 5);
            if (f.length < 5 || f[1].isEmpty()) {
                continue;
            }
            Path p = Path.of(f[4]);
            char type = f[1].charAt(0);
            long size;
            Instant at;
            try {
                size = Long.parseLong(f[2]);
                BigDecimal secs = new BigDecimal(f[3]);
                at = Instant.ofEpochSecond(secs.longValue(), secs.remainder(BigDecimal.ONE).movePointRight(9)
                        .longValue());
            } catch (NumberFormatException | ArithmeticException e) {
                continue;
            }
            if (f[0].equals("0")) {
                types.put(p, type);
                if (type == 'f') {
                    bytes.put(p, new long[]{size});
                    newest.put(p, at);
                } else if (type == 'd') {
                    bytes.putIfAbsent(p, new long[]{0});
                    newest.putIfAbsent(p, Instant.EPOCH);
                }
            } else if (f[0].equals("1") && type == 'f' && p.getParent() != null) {
                Path dir = p.getParent();
                bytes.computeIfAbsent(dir, d -> new long[]{0})[0] += size;
                newest.merge(dir, at, (a, b) -> a.isAfter(b) ? a : b);
            }
        }
        Map<Path, ShardShutdown.FileFacts> facts = new LinkedHashMap<>();
        for (Path p : asked) {
            Character t = types.get(p);
            if (t != null && (t == 'f' || t == 'd')) {
                facts.put(p, new ShardShutdown.FileFacts(bytes.get(p)[0], newest.get(p)));
            }
        }
        return facts;
    }
}
