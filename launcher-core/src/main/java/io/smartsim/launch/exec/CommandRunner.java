package io.smartsim.launch.exec;

import io.smartsim.launch.error.LaunchException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A transport: where scheduler commands run, and where the files a launch needs live. {@link LocalCommandRunner}
 * runs them on this machine; an SSH runner (launcher-ssh, found through {@link TransportProvider}) runs them on a
 * login node. Launchers are handed one ({@link Transports#open}) and never know which: every command, every file
 * read or written, every detached start and every control connection to a shard goes through it.
 *
 * <p>The defaults are this machine's: files through {@code java.nio}, detached starts as {@link DetachedProcess},
 * shards reached directly.
 */
public interface CommandRunner extends AutoCloseable {
    /**
     * Runs {@code argv} (never a shell string) with extra environment, waiting at most {@code timeout}.
     * A non-zero exit is a result, not an exception; an exception means the command could not be run at all
     * (binary missing, transport down: {@link io.smartsim.launch.error.SchedulerUnreachableException}).
     */
    CommandResult run(List<String> argv, Map<String, String> env, Duration timeout);

    default CommandResult run(List<String> argv, Duration timeout) {
        return run(argv, Map.of(), timeout);
    }

    /** Where commands run, for messages: "localhost" or "user@login-node". */
    String where();

    /**
     * Writes {@code content} to {@code path} where commands run, creating its directory. The file appears whole
     * (written under a temporary name and renamed): a reader never sees half of it.
     */
    default void writeFile(Path path, String content, Duration timeout) {
        try {
            Files.createDirectories(path.toAbsolutePath().getParent());
            Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
            Files.writeString(tmp, content);
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new LaunchException("cannot write " + path + " on " + where() + ": " + e.getMessage(), e);
        }
    }

    /** The contents of {@code path} where commands run; empty when there is no such file. */
    default Optional<String> readFile(Path path, Duration timeout) {
        try {
            return Optional.of(Files.readString(path));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new LaunchException("cannot read " + path + " on " + where() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The last {@code max} lines of a log file where commands run, as an indented block for an error message, or a
     * note that it is empty, missing or unreadable. Never throws: it only adds to a message.
     */
    default String logTail(Path file, int max) {
        try {
            List<String> lines = readFile(file, Duration.ofSeconds(5)).map(t -> t.lines().filter(l -> !l.isBlank())
                    .toList()).orElse(List.of());
            if (lines.isEmpty()) {
                return "  (" + file + " is empty or missing)";
            }
            return "  last lines of " + file + ":\n    " + String.join("\n    ",
                    lines.subList(Math.max(0, lines.size() - max), lines.size()));
        } catch (LaunchException e) {
            return "  (could not read " + file + " on " + where() + ": " + e.getMessage() + ")";
        }
    }

    /**
     * Keeps the previous run's copy of these files (logs) where commands run: each that exists becomes
     * {@code NAME.1}, replacing an older one; files that do not exist are no error. A start after a crash (or
     * {@code --resume}) so still shows why the last run ended.
     */
    default void keepPrevious(List<Path> paths, Duration timeout) {
        for (Path p : paths) {
            try {
                io.smartsim.launch.util.PreviousRun.keep(p);
            } catch (IOException e) {
                throw new LaunchException("cannot keep " + p + " as " + p.getFileName() + ".1 on " + where() + ": "
                        + e.getMessage(), e);
            }
        }
    }

    /** Removes these files where commands run; files that do not exist are no error. */
    default void deleteFiles(List<Path> paths, Duration timeout) {
        for (Path p : paths) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                throw new LaunchException("cannot remove " + p + " on " + where() + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Starts {@code argv} where commands run, detached: it outlives this process and this transport, runs in
     * {@code workDir}, appends stdout and stderr to {@code console}, reads /dev/null. Returns once it has started.
     */
    default Detached spawn(List<String> argv, Path workDir, Path console, Duration timeout) {
        return DetachedProcess.spawn(argv, workDir, console);
    }

    /**
     * Makes {@code host:port} (a shard, where commands run sees it) reachable from this process for control
     * connections: afterwards {@link Routes#resolve} gives where to connect, which core's
     * {@code cluster.Connections} and {@code cluster.Ping} use. This machine reaches shards directly (nothing to
     * do); a remote transport forwards a local port through its session, for as long as the transport is open.
     */
    default void expose(String host, int port) {
    }

    /**
     * What a later process needs to open this transport again ({@link Transports#open} takes it back): empty for
     * this machine, the destination and SSH settings for a login node. Never a password, never a one-time
     * permission such as accepting a new host key.
     */
    default Map<String, String> recorded() {
        return Map.of();
    }

    /** Ends the transport (its session, its forwarded ports). Safe to call twice. Nothing to do for this machine. */
    @Override
    default void close() {
    }
}
