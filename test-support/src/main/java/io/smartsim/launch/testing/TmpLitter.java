package io.smartsim.launch.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Entries a test leaves in {@code /tmp}, for {@link Leftovers}: the names there before the test, compared with the
 * names after it. {@code /tmp} is shared by everything on the machine (other engineers' test runs, their shells, the
 * lead's suite), so a new name is the test's only when it starts with a prefix that this project's tests, benches,
 * testbeds or product make there ({@link #PREFIXES}, plus any a test adds): attribution by name, not by owner. Linux
 * does not record which process made a file, and the owner (root here, for every run) does not tell runs apart; a
 * prefix this project makes in {@code /tmp} is known from the code that makes it. What this cannot tell apart: the
 * same kind of entry made at the same time by another run of the same tests on the same machine (on a machine where
 * only one build runs, as in CI, that does not happen).
 */
public final class TmpLitter {
    /** The machine's temporary directory, where litter was found. */
    public static final Path TMP = Path.of("/tmp");

    /**
     * What this project's code has been seen to leave in {@code /tmp}, each with who made it:
     * <ul>
     * <li>{@code ai-redis-}: ai-server's test {@code RedisServer} (its {@code --dir});
     * <li>{@code torch-model-}, {@code script-gate-}: ai-torch's tests; {@code onnx-py-}: ai-onnx's;
     * <li>{@code model-hop-bench}, {@code module-bench}, {@code auto-batch-bench}: ai-module's benches;
     * <li>{@code onnxruntime-java}: ONNX Runtime's Java binding, once per JVM that loads it (the {@code --ai} front,
     * the model server, a test JVM), never removed;
     * <li>{@code pbs_nodefile.}: the Slurm testbed's PBS compatibility prolog, one per job.
     * </ul>
     */
    public static final List<String> PREFIXES = List.of("ai-redis-", "torch-model-", "script-gate-", "onnx-py-",
            "model-hop-bench", "module-bench", "auto-batch-bench", "onnxruntime-java", "pbs_nodefile.");

    private TmpLitter() {
    }

    /** The names in {@code dir} now; empty when it cannot be read. */
    public static Set<String> names(Path dir) {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(p -> out.add(p.getFileName().toString()));
        } catch (IOException e) {
            // nothing to compare: an unreadable directory is not the test's litter
        }
        return out;
    }

    /**
     * The entries of {@code dir} not in {@code before} whose names start with one of {@code prefixes}, except
     * {@code exempt} (the test's own {@code @TempDir}s, which JUnit removes after the check).
     */
    public static List<Path> added(Path dir, Set<String> before, Collection<String> prefixes, Collection<Path> exempt) {
        List<Path> out = new ArrayList<>();
        for (String name : names(dir)) {
            Path p = dir.resolve(name);
            if (!before.contains(name) && prefixes.stream().anyMatch(name::startsWith) && !exempt.contains(p)) {
                out.add(p);
            }
        }
        return out;
    }

    /** Removes {@code path} and everything under it, if it exists (for a test's or a bench's own temporary dirs). */
    public static void delete(Path path) {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(path)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + path + ": " + e.getMessage(), e);
        }
    }
}
