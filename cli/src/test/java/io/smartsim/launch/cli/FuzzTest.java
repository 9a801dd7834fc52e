package io.smartsim.launch.cli;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.entity.ModelPlanner;
import io.smartsim.launch.planned.LaunchPlan;
import io.smartsim.launch.plan.Placement;
import io.smartsim.launch.plan.Planner;
import io.smartsim.launch.spec.ExperimentFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Mutated spec files (YAML and JSON, through the spec reader, every spec check and the planner; one in twenty
 * the whole way through {@code run --dry-run}) and mutated argument lists (through {@link Main#commandLine()},
 * in this JVM) must always end in a clear error: exit 0, 1 or 2, an {@code error:} line, never an "unexpected"
 * exception or a stack trace, and never a process left. Seeded ({@code -Dfuzz.seed=N} replays a run) and bounded
 * by {@code -Dfuzz.seconds} (default 3 s per half). Nothing here can start a shard: only plan, dry run, status,
 * env and stop are fed, and the test checks that this JVM has no child process afterwards.
 */
class FuzzTest {
    private static final long SEED = Long.getLong("fuzz.seed", 20240611L);
    private static final long NANOS = (long) (Double.parseDouble(System.getProperty("fuzz.seconds", "3")) * 1e9);
    private static final int MIN_CASES = 1000; // each test: thousands together, whatever the machine's speed

    private static final String YAML = """
            name: demo
            orchestrators:
              - id: db
                launcher: local
                backend: redis
                nodes: 1
                instancesPerNode: 3
                port: 6780
                cpusPerShard: 2
                maxMemory: 2gb
                evictionPolicy: allkeys-lru
                extraConfig: ["hz 20"]
                startupTimeout: 30
                auth: true
                replicas: 1
                restart: on-failure
                checkpoint: every=30s
                lease: 10m
              - { id: cache, port: auto, checkpoint: aof }
            models:
              - name: sim
                exe: /bin/echo
                args: ["--steps", "100"]
                env: { OMP_NUM_THREADS: "2" }
                run: { nodes: 1, tasksPerNode: 1, cpusPerTask: 1 }
            ensembles:
              - name: sweep
                exe: /bin/echo
                args: [";alpha;"]
                params: { alpha: [0.1, 0.2], beta: [1, 2] }
                strategy: random
                samples: 2
                seed: 7
            """;
    private static final String JSON = """
            {"name": "demo",
             "orchestrators": [{"id": "db", "instancesPerNode": 3, "port": 6780, "maxMemory": "1gb", "auth": false},
                               {"id": "c2", "nodes": 1, "port": "auto",
                                "ai": {"backends": ["onnx", "torch"], "device": "cpu", "threads": 2}}],
             "models": [{"name": "m", "exe": "/bin/echo", "args": ["a"], "run": {"tasks": 1}}],
             "ensembles": [{"name": "e", "exe": "/bin/echo", "params": {"x": ["1", "2"]}, "strategy": "all_perm"}]}
            """;
    /** Values that have broken parsers elsewhere: edges, wrong types, huge, empty, special characters. */
    private static final String[] VALUES = {"0", "-1", "1", "2", "3", "65535", "65536", "99999999999", "1e9", "0x10",
            "auto", "AUTO", "", "\"\"", "null", "~", "[]", "{}", "[1, 2]", "{a: 1}", "true", "no", "x", "'",
            "\"\\u0000\"", "é", "💥", "a b", "-", "--", ";x;", "../../etc", "/", "PT5S", "1.5", "NaN", "&a", "*a",
            "!!binary AAAA", "|", ">", "#", "%", "@", "`", "USER", "PASSWORD_x", "redis", "keydb", "slurm", "lo",
            "every=1s", "every=0s", "aof", "on-failure", "10m", "1h30m", "onnx,torch", "tf,tflite,onnx", "gpu",
            "x".repeat(300)};
    private static final String NOISE = ":{}[],-\"'\n\t #&*!|>%@`0123456789abcxyz\\";

    @TempDir
    Path dir;

    @Test
    void mutatedSpecFilesAlwaysEndInAClearError() throws IOException {
        Random rnd = new Random(SEED);
        long until = System.nanoTime() + NANOS;
        int cases = 0;
        int[] outcomes = new int[2]; // planned, refused
        int throughCli = 0;
        while (cases < MIN_CASES || System.nanoTime() < until) {
            boolean json = rnd.nextInt(3) == 0;
            String text = mutate(json ? JSON : YAML, rnd);
            Path f = dir.resolve("case" + (cases % 50) + (json ? ".json" : ".yaml"));
            Files.writeString(f, text);
            String input = "seed " + SEED + " case " + cases + " (" + (json ? "json" : "yaml") + "):\n" + text;
            Path exp = dir.resolve("exp");
            if (cases % 20 == 0) { // the whole way, as a user gets it: exit code and one error line
                Cli.Result r = Cli.run("run", f.toString(), "--exp-dir", exp.toString(), "--dry-run");
                check(r, input);
                throughCli++;
            } else {
                outcomes[planned(f, exp, input) ? 0 : 1]++;
            }
            assertThat(exp).as("nothing written; %s", input).doesNotExist();
            cases++;
        }
        noProcessLeft();
        System.out.printf("fuzz: %d spec files (%d through the CLI), planned/refused = %d/%d (seed %d)%n", cases,
                throughCli, outcomes[0], outcomes[1], SEED);
        assertThat(outcomes[0]).as("some mutations still parse and plan").isPositive();
        assertThat(outcomes[1]).as("most mutations are refused").isPositive();
    }

    /**
     * Reads the file and plans everything in it (orchestrators on a placement of loopback nodes, models, ensemble
     * members): true when it all plans, false for a clean refusal; anything else fails the test.
     */
    private static boolean planned(Path f, Path exp, String input) {
        try {
            ExperimentFile spec = ExperimentFile.read(f);
            for (OrchestratorSpec o : spec.orchestrators()) {
                Placement placement = new Placement(Collections.nCopies(o.nodes(),
                        new Placement.Node("localhost", List.of("127.0.0.1"))));
                LaunchPlan plan = Planner.plan(spec.name(), exp, o, placement);
                assertThat(plan.shards()).hasSize(o.processCount()); // masters and their replicas
                plan.auth().ifPresent(c -> assertThat(plan.redacted().toString() + plan.redacted().shards())
                        .doesNotContain(c.password()));
            }
            spec.models().forEach(m -> ModelPlanner.plan(exp, m));
            spec.ensembles().forEach(e -> ModelPlanner.plan(exp, e));
            return true;
        } catch (InvalidSpecException e) { // SpecFileException among them, with file:line:column
            assertThat(e.getMessage()).as("a message for %s", input).isNotBlank().doesNotContain("\tat ");
            return false;
        } catch (RuntimeException e) {
            throw new AssertionError("not a clean refusal (" + e + ") for " + input, e);
        }
    }

    @Test
    void mutatedArgumentListsAlwaysEndInAClearError() throws IOException {
        Path file = dir.resolve("ok.yaml");
        Files.writeString(file, YAML);
        String exp = dir.resolve("exp").toString();
        List<List<String>> commands = List.of(List.of("db", "plan"), List.of("db", "status"), List.of("db", "env"),
                List.of("db", "stop"), List.of("run", file.toString(), "--dry-run"), List.of("db"), List.of(),
                List.of("help"), List.of("db", "plan", "--json"));
        String[] options = {"--nodes", "--per-node", "--port", "--interface", "--backend", "--timeout", "--cpus",
                "--max-memory", "--eviction", "--config", "--server-binary", "--launcher", "--name", "--experiment",
                "--exp-dir", "--no-auth", "--tls", "--json", "--show-secrets", "--alloc", "--batch", "--time", "--account",
                "--partition", "--qos", "--constraint", "--sbatch", "--launcher-option", "--verbose", "--help",
                "--version", "-h", "--", "--nodes=", "--port=auto", "--bogus", "--replicas", "--restart", "--checkpoint",
                "--lease", "--ai", "--ai-device", "--ai-threads", "--hosts", "--remote", "--run-command", "--queue",
                "--pbs-dialect", "--pbs"};
        Random rnd = new Random(SEED);
        long until = System.nanoTime() + NANOS;
        int cases = 0;
        int[] exits = new int[3];
        while (cases < MIN_CASES || System.nanoTime() < until) {
            List<String> args = new ArrayList<>(commands.get(rnd.nextInt(commands.size())));
            if (rnd.nextInt(4) > 0) {
                args.addAll(List.of("--exp-dir", exp)); // mostly a real directory, sometimes the default
            }
            int n = rnd.nextInt(6);
            for (int i = 0; i < n; i++) {
                args.add(rnd.nextInt(5) == 0 ? VALUES[rnd.nextInt(VALUES.length)] : options[rnd.nextInt(options.length)]);
                if (rnd.nextBoolean()) {
                    args.add(VALUES[rnd.nextInt(VALUES.length)]);
                }
            }
            if (args.contains("--help") || args.contains("-h") || args.contains("--version") || args.contains("help")) {
                args.removeIf(a -> a.equals("--help") || a.equals("-h") || a.equals("--version")); // keep output small
            }
            Cli.Result r = Cli.run(args.toArray(String[]::new));
            check(r, "seed " + SEED + " case " + cases + ": " + args);
            exits[r.exit()]++;
            cases++;
        }
        noProcessLeft();
        System.out.printf("fuzz: %d argument lists, exit 0/1/2 = %d/%d/%d (seed %d)%n", cases, exits[0], exits[1],
                exits[2], SEED);
        assertThat(exits[2]).isPositive();
    }

    private static void check(Cli.Result r, String input) {
        assertThat(r.exit()).as("exit code for %s%n%s", input, r).isBetween(0, 2);
        assertThat(r.err()).as("no stack trace for %s%n%s", input, r).doesNotContain("\tat ", "error: unexpected");
        if (r.exit() != 0) {
            assertThat(r.err()).as("an error line for %s%n%s", input, r).startsWith("error: ");
        }
    }

    private static void noProcessLeft() {
        assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive).map(h -> h.pid() + " "
                + h.info().commandLine().orElse("?")).toList()).as("processes started by the fuzz cases").isEmpty();
    }

    /** One to three edits: a character, a value, a line or a key changed, dropped, doubled or moved. */
    static String mutate(String base, Random rnd) {
        String s = base;
        int edits = 1 + rnd.nextInt(3);
        for (int e = 0; e < edits; e++) {
            List<String> lines = new ArrayList<>(s.lines().toList());
            if (lines.isEmpty()) {
                return s;
            }
            int at = rnd.nextInt(lines.size());
            String line = lines.get(at);
            switch (rnd.nextInt(7)) {
                case 0 -> { // drop a character
                    if (!s.isEmpty()) {
                        int i = rnd.nextInt(s.length());
                        s = s.substring(0, i) + s.substring(i + 1);
                    }
                    continue;
                }
                case 1 -> { // insert a character
                    int i = rnd.nextInt(s.length() + 1);
                    s = s.substring(0, i) + NOISE.charAt(rnd.nextInt(NOISE.length())) + s.substring(i);
                    continue;
                }
                case 2 -> { // replace a value after "key:" with another
                    int colon = line.indexOf(": ");
                    if (colon > 0) {
                        int end = line.indexOf(',', colon);
                        String v = VALUES[rnd.nextInt(VALUES.length)];
                        lines.set(at, line.substring(0, colon + 2) + v + (end > 0 && rnd.nextBoolean()
                                ? line.substring(end) : ""));
                    }
                }
                case 3 -> lines.remove(at);
                case 4 -> lines.add(at, line);
                case 5 -> {
                    String moved = lines.remove(at);
                    lines.add(rnd.nextInt(lines.size() + 1), moved);
                }
                default -> { // rename a key
                    int colon = line.indexOf(':');
                    if (colon > 0) {
                        lines.set(at, line.substring(0, colon) + (rnd.nextBoolean() ? "x" : "") + line.substring(colon));
                    }
                }
            }
            s = String.join("\n", lines) + "\n";
        }
        return s;
    }
}
