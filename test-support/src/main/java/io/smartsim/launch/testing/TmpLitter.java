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
 * lead's suite), and Linux records no creating process (the owner, root for every run here, does not tell runs apart),
 * so a new entry is the test's only on evidence:
 * <ul>
 * <li>its name starts with a prefix that this project's tests, benches, testbeds or product make there
 * ({@link #PREFIXES}, plus any a test adds), and
 * <li>no live process outside this JVM and its descendants works in it, maps a file of it or names it on its command
 * line (then it is another run's, still in use);
 * <li>for {@code onnxruntime-java*} (made by every JVM that loads ONNX Runtime, in every run on the machine): this
 * JVM or a descendant maps a library from it, else it cannot be told from another run's and is not counted;
 * <li>for {@code pbs_nodefile.N} (the Slurm testbed's prolog, for every job on the machine): Slurm still knows job N
 * and its working directory or output is under one of the test's directories.
 * </ul>
 * What this still cannot tell apart: an entry with a generic prefix that another run of the same tests made and
 * stopped using during this test (on a machine where one build runs at a time, as in CI, that does not happen).
 */
public final class TmpLitter {
    /** The machine's temporary directory, where litter was found. */
    public static final Path TMP = Path.of("/tmp");

    /**
     * What this project's code has been seen to leave in {@code /tmp}, each with who made it:
     * <ul>
     * <li>{@code ai-redis-}: ai-server's test {@code RedisServer} (its {@code --dir}; removed with the front, issue 16);
     * <li>{@code torch-model-}, {@code script-gate-}: ai-torch's tests; {@code onnx-py-}: ai-onnx's;
     * <li>{@code model-hop-bench}, {@code module-bench}, {@code auto-batch-bench}: ai-module's benches;
     * <li>{@code onnxruntime-java}: ONNX Runtime's Java binding, once per JVM that loads it (the model server, a
     * test JVM), never removed;
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
     * The entries of {@code dir} not in {@code before} that are the test's by the evidence above: named with one of
     * {@code prefixes}, not {@code exempt} (the test's own {@code @TempDir}s, which JUnit removes after the check),
     * and, for a Slurm job's node file, of a job working under one of {@code testDirs}.
     */
    public static List<Path> added(Path dir, Set<String> before, Collection<String> prefixes, Collection<Path> exempt,
                                   Collection<Path> testDirs) {
        List<Path> candidates = new ArrayList<>();
        for (String name : names(dir)) {
            Path p = dir.resolve(name);
            if (!before.contains(name) && prefixes.stream().anyMatch(name::startsWith) && !exempt.contains(p)) {
                candidates.add(p);
            }
        }
        if (candidates.isEmpty()) {
            return candidates;
        }
        List<Path> out = new ArrayList<>();
        Uses uses = Uses.now();
        for (Path p : candidates) {
            String name = p.getFileName().toString();
            if (uses.byOthers(p)) {
                continue;
            }
            if (name.startsWith(ORT) ? uses.byUs(p) : name.startsWith(NODEFILE) ? jobUnder(name, testDirs) : true) {
                out.add(p);
            }
        }
        return out;
    }

    private static final String ORT = "onnxruntime-java";
    private static final String NODEFILE = "pbs_nodefile.";

    /** Whether the Slurm job of node file {@code pbs_nodefile.N} works or writes under one of {@code dirs}. */
    private static boolean jobUnder(String name, Collection<Path> dirs) {
        String job = name.substring(NODEFILE.length());
        if (!job.matches("[0-9]+") || dirs.isEmpty()) {
            return false;
        }
        try {
            Process p = new ProcessBuilder("scontrol", "-o", "show", "job", job).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                return false; // not known (any more): cannot be told from another run's
            }
            for (String field : out.strip().split(" ")) {
                if (field.startsWith("WorkDir=") || field.startsWith("StdOut=") || field.startsWith("StdErr=")) {
                    String path = field.substring(field.indexOf('=') + 1);
                    if (dirs.stream().anyMatch(d -> path.equals(d.toString()) || path.startsWith(d + "/"))) {
                        return true;
                    }
                }
            }
            return false;
        } catch (IOException e) {
            return false; // no Slurm here
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * One look at every live process: what each works in (cwd), names (command line) and maps (libraries), split into
     * this JVM with its descendants, and the others.
     */
    private record Uses(List<String> ours, List<String> others) {
        static Uses now() {
            Set<Long> mine = new java.util.HashSet<>();
            mine.add(ProcessHandle.current().pid());
            ProcessHandle.current().descendants().forEach(h -> mine.add(h.pid()));
            List<String> ours = new ArrayList<>();
            List<String> others = new ArrayList<>();
            try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
                for (Path proc : procs.filter(p -> p.getFileName().toString().matches("[0-9]+")).toList()) {
                    StringBuilder b = new StringBuilder();
                    try {
                        b.append(Files.readSymbolicLink(proc.resolve("cwd"))).append('\n');
                    } catch (IOException | UnsupportedOperationException e) {
                        // gone, or not ours to read
                    }
                    for (String f : List.of("cmdline", "maps")) {
                        try {
                            b.append(new String(Files.readAllBytes(proc.resolve(f))).replace('\0', ' ')).append('\n');
                        } catch (IOException e) {
                            // gone
                        }
                    }
                    (mine.contains(Long.valueOf(proc.getFileName().toString())) ? ours : others).add(b.toString());
                }
            } catch (IOException e) {
                // no /proc: nothing known either way
            }
            return new Uses(ours, others);
        }

        boolean byUs(Path entry) {
            return ours.stream().anyMatch(t -> mentions(t, entry));
        }

        boolean byOthers(Path entry) {
            return others.stream().anyMatch(t -> mentions(t, entry));
        }

        private static boolean mentions(String text, Path entry) {
            String e = entry.toString();
            int i = text.indexOf(e);
            while (i >= 0) {
                int end = i + e.length();
                if (end == text.length() || "/ \n".indexOf(text.charAt(end)) >= 0) {
                    return true;
                }
                i = text.indexOf(e, end);
            }
            return false;
        }
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
