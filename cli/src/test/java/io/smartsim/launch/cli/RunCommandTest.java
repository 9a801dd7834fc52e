package io.smartsim.launch.cli;

import io.smartsim.launch.testing.Golden;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code run --dry-run} against golden files, and located errors for mistakes in the spec file. */
class RunCommandTest {
    @TempDir
    Path dir;

    @BeforeEach
    void files() throws IOException {
        Path sim = dir.resolve("sim.sh");
        Files.writeString(sim, "#!/bin/sh\necho \"$@\"\n");
        Files.setPosixFilePermissions(sim, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(dir.resolve("in.cfg"), "alpha = ;alpha;\nsteps = 100\n");
    }

    private Path spec(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        return f;
    }

    private String normalized(String text) {
        return text.replace(dir.toString(), "$DIR");
    }

    @Test
    void dryRunPrintsEveryShardModelAndMemberAndStartsNothing() throws IOException {
        Path f = spec("experiment.yaml", """
                name: demo
                orchestrators:
                  - id: db
                    launcher: local
                    nodes: 1
                    instancesPerNode: 3
                    port: 6780
                  - id: cache
                    port: 6790
                models:
                  - name: sim
                    exe: ./sim.sh
                    args: ["--steps", "100", "two words"]
                    env: { OMP_NUM_THREADS: "2" }
                    run: { nodes: 1, tasksPerNode: 1 }
                ensembles:
                  - name: sweep
                    exe: ./sim.sh
                    args: ["--alpha", ";alpha;", "--beta", ";beta;"]
                    env: { ALPHA: ";alpha;" }
                    params: { alpha: [0.1, 0.2], beta: [1, 2, 3] }
                    strategy: random
                    samples: 3
                    seed: 42
                    configFiles: [in.cfg]
                """);
        Path exp = dir.resolve("exp");
        Cli.Result r = Cli.run("run", f.toString(), "--exp-dir", exp.toString(), "--dry-run");

        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.err()).isEmpty();
        Golden.assertMatches(normalized(r.out()), "run-dry-run.txt");
        assertThat(exp).as("a dry run writes nothing").doesNotExist();
    }

    @Test
    void dryRunOfASlurmExperimentPrintsTheOrchestratorsAndTheModelsBatchScripts() throws IOException {
        // Batch mode throughout: nothing here needs an allocation or asks Slurm anything.
        Path f = spec("slurm.yaml", """
                name: hpc
                orchestrators:
                  - id: db
                    launcher: slurm
                    nodes: 3
                    instancesPerNode: 1
                    port: 6780
                    launcherOptions: { batch: "true", time: "01:00:00" }
                models:
                  - name: sim
                    launcher: slurm
                    exe: ./sim.sh
                    args: ["--steps", "100"]
                    run: { nodes: 2, tasksPerNode: 4, runArgs: ["--mpi=pmix"], batch: { time: "00:30:00", partition: debug } }
                ensembles:
                  - name: sweep
                    launcher: slurm
                    exe: ./sim.sh
                    args: ["--alpha", ";alpha;"]
                    params: { alpha: [0.1, 0.2] }
                    run: { batch: { time: "10:00" } }
                """);
        Path exp = dir.resolve("exp");
        Cli.Result r = Cli.run("run", f.toString(), "--exp-dir", exp.toString(), "--dry-run");

        assertThat(r.exit()).as(r.toString()).isZero();
        Golden.assertMatches(normalized(r.out()), "run-dry-run-slurm.txt");
        assertThat(exp).as("a dry run writes nothing").doesNotExist();
    }

    @Test
    void dryRunOfTheSameExperimentInJsonIsTheSame() throws IOException {
        Path yaml = spec("e.yaml", """
                name: demo
                orchestrators: [{ id: db, instancesPerNode: 3 }]
                models: [{ name: sim, exe: ./sim.sh, args: [a] }]
                ensembles: [{ name: sweep, exe: ./sim.sh, args: [";x;"], params: { x: [1, 2] }, strategy: step }]
                """);
        Path json = spec("e.json", """
                {"name": "demo", "orchestrators": [{"id": "db", "instancesPerNode": 3}],
                 "models": [{"name": "sim", "exe": "./sim.sh", "args": ["a"]}],
                 "ensembles": [{"name": "sweep", "exe": "./sim.sh", "args": [";x;"], "params": {"x": [1, 2]},
                                "strategy": "step"}]}
                """);
        String a = Cli.run("run", yaml.toString(), "--exp-dir", dir.resolve("exp").toString(), "--dry-run").out();
        String b = Cli.run("run", json.toString(), "--exp-dir", dir.resolve("exp").toString(), "--dry-run").out();
        assertThat(b.replace("e.json", "e.yaml")).isEqualTo(a);
    }

    @Test
    void eachKindOfMistakeExitsTwoWithItsLocationAndNoStackTrace() throws IOException {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("name: demo\norchestrators:\n  - nodes: three\n",
                ":3:12: orchestrators[0].nodes: 'three' is not a whole number");
        cases.put("name: demo\nmodels:\n  - name: sim\n    exe: ./sim.sh\n    colour: blue\n",
                ":5:5: models[0].colour: unknown field 'colour'; the fields here are args, colocatedDb, configFiles, "
                        + "env, exe, launcher, launcherOptions, name, params, run, workDir");
        cases.put("name: demo\nmodels:\n  - name: sim\n", ":3:5: models[0].exe: missing; this entry needs 'exe'");
        cases.put("name: demo\nmodels: [ { name: sim\n", ": syntax: not valid YAML: ");
        cases.put("name: demo\nensembles:\n  - { name: s, exe: ./sim.sh, params: { a: [1] }, strategy: grid }\n",
                ":3:61: ensembles[0].strategy: unknown strategy 'grid'; use one of all_perm, step, random");
        cases.put("name: demo\nmodels:\n  - name: sim\n    exe: ./nope.sh\n",
                ":4:10: models[0].exe: model 'sim': " + dir.resolve("nope.sh") + " is not an executable file "
                        + "(check the path and chmod +x)");
        cases.put("name: demo\nmodels:\n  - name: sim\n    exe: ./sim.sh\n    run: { nodes: 4 }\n",
                ":5:19: models[0].run.nodes: model 'sim' asks for 4 nodes; the local launcher runs one process on "
                        + "this machine: remove it or choose the slurm launcher");
        int n = 0;
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Path f = spec("bad" + n++ + ".yaml", c.getKey());
            Cli.Result r = Cli.run("run", f.toString(), "--exp-dir", dir.resolve("exp").toString());
            assertThat(r.exit()).as(r.toString()).isEqualTo(2);
            assertThat(r.err()).as(r.toString()).startsWith("error: " + f + (c.getValue().startsWith(":") ? "" : ":"))
                    .contains(c.getValue()).doesNotContain("\tat ", "Exception");
            assertThat(r.err().lines().count()).as(r.toString()).isEqualTo(1);
        }
        assertThat(dir.resolve("exp")).doesNotExist();
    }

    @Test
    void dbEnvLinesAreShellQuotedAndNamesAShellCannotExportAreComments() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SSDB", "127.0.0.1:6780,127.0.0.1:6781,127.0.0.1:6782");
        env.put("SR_DB_TYPE", "Clustered");
        env.put("SSDB_v6", "[::1]:6790");
        env.put("SR_DB_TYPE_v6", "Standalone");
        env.put("SSDB_my-db", "127.0.0.1:6800");
        assertThat(DbEnvCommand.render(env, false)).isEqualTo("""
                export SSDB=127.0.0.1:6780,127.0.0.1:6781,127.0.0.1:6782
                export SR_DB_TYPE=Clustered
                export SSDB_v6='[::1]:6790'
                export SR_DB_TYPE_v6=Standalone
                # SSDB_my-db is not a name a shell can export (models started by smartsim-launch get it); its value: 127.0.0.1:6800
                """);
    }

    @Test
    void dbEnvWithoutAManifestFailsWithExitOne() {
        Cli.Result r = Cli.run("db", "env", "--exp-dir", dir.resolve("none").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).startsWith("error: no manifest at ");
    }
}
