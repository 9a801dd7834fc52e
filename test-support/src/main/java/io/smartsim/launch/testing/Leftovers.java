package io.smartsim.launch.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The one leftover check of every integration test: once a test (or a class) is done, no process runs in or names
 * its directories, and nothing listens on the ports it used, on any address. A JUnit 5 extension:
 *
 * <pre>{@code
 * @RegisterExtension
 * final Leftovers leftovers = Leftovers.perTest();          // checked after each test
 * @RegisterExtension
 * static final Leftovers leftovers = Leftovers.perClass();  // servers shared by the class: checked after all
 * ...
 * int base = leftovers.freeBase(3);   // Processes.freeBase, and base..base+2 are checked as shard ports
 * }</pre>
 *
 * <p>What is checked:
 * <ul>
 * <li>processes by working directory (or a command line naming it, {@link Processes#under}) under every
 * {@code @TempDir} field of the test (instance fields per test, static ones per class) and every {@link #dir};
 * the testbeds' nodes (Slurm n1-n3, the ssh "hosts", the PBS nodes) are this machine, so {@code /proc} sees all;
 * <li>for each shard port P ({@link #freeBase}, {@link #shardPorts}): P and its cluster bus port P+10000; and each
 * single {@link #port} (an sshd of the test, say): nothing listening, on any
 * address of this network namespace (127.0.0.1, the testbeds' 127.0.1.x, IPv6), read from {@code /proc/net/tcp*};
 * <li>processes whose command line contains a {@link #naming} token (commands run over SSH with no directory);
 * <li>new entries in {@code /tmp}: its names are noted before the test (or the class) and compared after it; a new one
 * counts when its name starts with a prefix this project's code makes there ({@link TmpLitter#PREFIXES}, or one
 * added with {@link #tmpPrefix}) and no other run is using it (see {@link TmpLitter} for the evidence asked of
 * ONNX Runtime's directories and Slurm's node files), the test's own {@code @TempDir}s excepted (not the
 * {@link #dir}s: a directory registered for its processes is still the test's to remove). {@code /tmp} is shared
 * with every other run on the machine and nothing records which process made an entry, hence the evidence. Entries
 * are reported, never removed (one could still be another run's).
 * </ul>
 * A scheduler ends a cancelled step a moment after {@code scancel} returns, so what is found is polled for
 * {@link Processes#GRACE}; whatever stays is reported, then killed (only processes of the test's directories and
 * tokens, and redis-server / keydb-server on its ports: never another test's), so even a failing test leaves no orphan.
 */
public final class Leftovers implements BeforeEachCallback, BeforeAllCallback, AfterEachCallback, AfterAllCallback {
    /** Where a shard's cluster bus listens: its port + 10000 (Redis's fixed offset). */
    public static final int BUS_OFFSET = 10000;

    private final boolean perClass;
    private final Duration grace;
    private final Set<Path> dirs = new LinkedHashSet<>();
    private final Set<Integer> ports = new TreeSet<>();
    private final Set<String> tokens = new LinkedHashSet<>();
    private final Set<String> tmpPrefixes = new LinkedHashSet<>(TmpLitter.PREFIXES);
    private Path tmp = TmpLitter.TMP;
    /** The names in {@link #tmp} before the test (or the class); null until noted. */
    private Set<String> tmpBefore;

    private Leftovers(boolean perClass, Duration grace) {
        this.perClass = perClass;
        this.grace = grace;
    }

    /** Checked after each test: register on an instance field. */
    public static Leftovers perTest() {
        return new Leftovers(false, Processes.GRACE);
    }

    /** Checked once after all tests of the class (servers shared by the class): register on a static field. */
    public static Leftovers perClass() {
        return new Leftovers(true, Processes.GRACE);
    }

    /** The same check, polled for {@code grace} instead of {@link Processes#GRACE} (for a test of the check). */
    public Leftovers withGrace(Duration grace) {
        Leftovers l = new Leftovers(perClass, grace);
        l.dirs.addAll(dirs);
        l.ports.addAll(ports);
        l.tokens.addAll(tokens);
        l.tmpPrefixes.addAll(tmpPrefixes);
        l.tmp = tmp;
        l.tmpBefore = tmpBefore;
        return l;
    }

    /** {@link Processes#freeBase}, with the {@code count} ports from the base recorded as shard ports. */
    public synchronized int freeBase(int count) {
        int base = Processes.freeBase(count);
        shardPorts(base, count);
        return base;
    }

    /**
     * Shard ports {@code base..base+count-1}: each and its bus port must be free at the end.
     * Returns {@code base}, to record a fixed port where it is used: {@code .port(leftovers.shardPorts(14100, 1))}.
     */
    public synchronized int shardPorts(int base, int count) {
        for (int p = base; p < base + count; p++) {
            ports.add(p);
            ports.add(p + BUS_OFFSET);
        }
        return base;
    }

    /** Shard ports (what {@code --port auto} chose, from the plan), each with its bus port. */
    public synchronized Leftovers shardPorts(Collection<Integer> shardPorts) {
        shardPorts.forEach(p -> shardPorts(p, 1));
        return this;
    }

    /** One port on its own (an sshd of the test, say): nothing may listen there at the end. */
    public synchronized int port(int port) {
        ports.add(port);
        return port;
    }

    /** A directory (besides the {@code @TempDir} fields) whose processes must be gone at the end. */
    public synchronized Leftovers dir(Path dir) {
        dirs.add(dir);
        return this;
    }

    /** Processes whose command line contains {@code token} must be gone at the end (use a token unique to the test). */
    public synchronized Leftovers naming(String token) {
        tokens.add(token);
        return this;
    }

    /** New entries in /tmp whose names start with {@code prefix} are the test's too (a name its code makes there). */
    public synchronized Leftovers tmpPrefix(String prefix) {
        tmpPrefixes.add(prefix);
        return this;
    }

    /**
     * Watches {@code dir} instead of {@code /tmp}, its names noted now (for a test of the check, in a directory of its
     * own that no other run writes to).
     */
    public synchronized Leftovers watchingTmp(Path dir) {
        tmp = dir;
        tmpBefore = TmpLitter.names(dir);
        return this;
    }

    /** What is checked so far, for messages. */
    @Override
    public synchronized String toString() {
        return "Leftovers{dirs=" + dirs + ", ports=" + ports + ", tokens=" + tokens + "}";
    }

    @Override
    public void beforeEach(ExtensionContext ctx) {
        if (!perClass) {
            noteTmp();
        }
    }

    @Override
    public void beforeAll(ExtensionContext ctx) {
        if (perClass) {
            noteTmp();
        }
    }

    private synchronized void noteTmp() {
        tmpBefore = TmpLitter.names(tmp);
    }

    @Override
    public void afterEach(ExtensionContext ctx) {
        if (!perClass) {
            check(ctx.getRequiredTestClass().getSimpleName() + "." + ctx.getDisplayName(), ctx.getRequiredTestClass(),
                    ctx.getTestInstance());
        }
    }

    @Override
    public void afterAll(ExtensionContext ctx) {
        if (perClass) {
            check(ctx.getRequiredTestClass().getSimpleName(), ctx.getRequiredTestClass(), Optional.empty());
        }
    }

    private void check(String what, Class<?> testClass, Optional<Object> instance) {
        Found found = verify(tempDirs(testClass, instance));
        if (!found.isEmpty()) {
            throw new AssertionError("left behind by " + what + " (after " + grace.toMillis() / 1000.0
                    + " s of grace; processes killed now, files left as they are):\n" + found);
        }
    }

    /** What is still there once the grace has passed; kills it (as the check does). For tests of the check. */
    public Found verify(List<Path> extraDirs) {
        List<Path> all;
        List<Integer> ps;
        List<String> ts;
        Optional<Tmp> t;
        synchronized (this) {
            all = new ArrayList<>(new LinkedHashSet<>(extraDirs));
            dirs.stream().filter(d -> !all.contains(d)).forEach(all::add);
            ps = List.copyOf(ports);
            ts = List.copyOf(tokens);
            // exempt: the test's @TempDirs (JUnit removes them after this check), not the dirs registered with dir()
            t = tmpBefore == null ? Optional.empty() : Optional.of(new Tmp(tmp, Set.copyOf(tmpBefore),
                    List.copyOf(tmpPrefixes), List.copyOf(extraDirs), List.copyOf(all)));
        }
        Found found = Processes.untilNothingLeft(() -> look(all, ps, ts, t), Found::size, grace,
                "Leftovers: leftover(s)");
        if (!found.isEmpty()) {
            all.forEach(Processes::killUnder);
            found.processes().stream().map(Processes.Proc::pid).forEach(Leftovers::kill);
            Processes.killServersOn(ps);
        }
        return found;
    }

    /**
     * What one look finds: processes of the directories and tokens, listeners on the ports, new entries in /tmp whose
     * names this project makes there.
     */
    public record Found(List<Processes.Proc> processes, List<Processes.Listener> listeners, List<Path> tmp) {
        public boolean isEmpty() {
            return processes.isEmpty() && listeners.isEmpty() && tmp.isEmpty();
        }

        int size() {
            return processes.size() + listeners.size() + tmp.size();
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            processes.forEach(p -> b.append("  process ").append(p).append('\n'));
            listeners.forEach(l -> b.append("  port ").append(l).append('\n'));
            tmp.forEach(p -> b.append("  new in ").append(p.getParent()).append(": ").append(p.getFileName())
                    .append(p.getFileName().toString().startsWith("pbs_nodefile.")
                            ? " (the Slurm testbed's TaskProlog wrote it for one of the test's jobs: this testbed "
                            + "predates its Epilog; run testbeds/slurm/up, as root, to bring it up to date)\n"
                            : " (made during the test and not removed: remove it where it is made, or make it in a "
                            + "@TempDir)\n"));
            return b.toString();
        }
    }

    /** The /tmp part of a look: the directory, its names before, the prefixes that count, the paths exempt. */
    private record Tmp(Path dir, Set<String> before, List<String> prefixes, List<Path> exempt, List<Path> testDirs) {
    }

    private static Found look(List<Path> dirs, List<Integer> ports, List<String> tokens, Optional<Tmp> tmp) {
        Set<Long> seen = new java.util.HashSet<>();
        List<Processes.Proc> procs = new ArrayList<>();
        for (Path d : dirs) {
            Processes.under(d).stream().filter(p -> seen.add(p.pid())).forEach(procs::add);
        }
        for (String t : tokens) {
            Processes.naming(t).stream().filter(p -> seen.add(p.pid())).forEach(procs::add);
        }
        return new Found(List.copyOf(procs), Processes.listening(ports), tmp.map(t -> TmpLitter.added(t.dir(),
                t.before(), t.prefixes(), t.exempt(), t.testDirs())).orElse(List.of()));
    }

    private static void kill(long pid) {
        ProcessHandle.of(pid).ifPresent(h -> {
            h.destroyForcibly();
            h.onExit().orTimeout(5, java.util.concurrent.TimeUnit.SECONDS).exceptionally(t -> h).join();
        });
    }

    private List<Path> tempDirs(Class<?> testClass, Optional<Object> instance) {
        List<Path> out = new ArrayList<>();
        if (!perClass && instance.isEmpty()) {
            return out;
        }
        for (Class<?> c = testClass; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (f.isAnnotationPresent(TempDir.class) && Modifier.isStatic(f.getModifiers()) == perClass
                        && f.getType() == Path.class) {
                    try {
                        f.setAccessible(true);
                        Object v = f.get(perClass ? null : instance.orElseThrow());
                        if (v != null) {
                            out.add((Path) v);
                        }
                    } catch (IllegalAccessException | RuntimeException e) {
                        throw new IllegalStateException("cannot read @TempDir " + f, e);
                    }
                }
            }
        }
        return out;
    }
}
