package io.smartsim.launch.spec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Spec files: the issue's example reads as the Java API would build it; every kind of mistake is located. */
class ExperimentFileTest {
    private static final String ISSUE_EXAMPLE = """
            name: demo
            orchestrators:
              - id: db
                launcher: local          # or slurm, pbs, ssh
                nodes: 1
                instancesPerNode: 3
                port: 6780
            models:
              - name: sim
                exe: ./sim.sh
                args: ["--steps", "100"]
                env: { OMP_NUM_THREADS: "2" }
                run: { nodes: 1, tasksPerNode: 1 }
            ensembles:
              - name: sweep
                exe: ./sim.sh
                args: ["--alpha", ";alpha;"]     # ;name; is replaced by each member's value
                params: { alpha: [0.1, 0.2, 0.3] }
                strategy: all_perm                # or step, random
            """;

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        return f;
    }

    private SpecFileException failure(String name, String text) throws IOException {
        Path f = write(name, text);
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> ExperimentFile.read(f));
        assertThat(t).isInstanceOf(SpecFileException.class);
        return (SpecFileException) t;
    }

    @Test
    void theIssuesExampleReadsAsTheJavaApiBuildsIt() throws IOException {
        Path f = write("experiment.yaml", ISSUE_EXAMPLE);
        ExperimentFile x = ExperimentFile.read(f);
        assertThat(x.name()).isEqualTo("demo");
        assertThat(x.orchestrators()).containsExactly(OrchestratorSpec.builder().id("db").launcher("local")
                .backend(Backend.REDIS).nodes(1).instancesPerNode(3).port(6780).build());
        ModelSpec sim = x.models().get(0);
        assertThat(sim).isEqualTo(ModelSpec.builder("sim", "./sim.sh").args("--steps", "100")
                .env("OMP_NUM_THREADS", "2")
                .run(RunSettings.builder().nodes(1).tasksPerNode(1).build())
                .baseDir(dir).build());
        EnsembleSpec sweep = x.ensembles().get(0);
        assertThat(sweep.strategy()).isEqualTo(Strategy.ALL_PERM);
        assertThat(sweep.params()).isEqualTo(Map.of("alpha", List.of("0.1", "0.2", "0.3")));
        assertThat(sweep.members()).extracting(ModelSpec::name).containsExactly("sweep_0", "sweep_1", "sweep_2");
        assertThat(sweep.members()).extracting(ModelSpec::params).containsExactly(Map.of("alpha", "0.1"),
                Map.of("alpha", "0.2"), Map.of("alpha", "0.3"));
    }

    @Test
    void theSameExperimentAsJsonReadsTheSame() throws IOException {
        Path yaml = write("experiment.yaml", ISSUE_EXAMPLE);
        Path json = write("experiment.json", """
                {"name": "demo",
                 "orchestrators": [{"id": "db", "launcher": "local", "nodes": 1, "instancesPerNode": 3, "port": 6780}],
                 "models": [{"name": "sim", "exe": "./sim.sh", "args": ["--steps", "100"],
                             "env": {"OMP_NUM_THREADS": "2"}, "run": {"nodes": 1, "tasksPerNode": 1}}],
                 "ensembles": [{"name": "sweep", "exe": "./sim.sh", "args": ["--alpha", ";alpha;"],
                                "params": {"alpha": [0.1, 0.2, 0.3]}, "strategy": "all_perm"}]}
                """);
        ExperimentFile a = ExperimentFile.read(yaml);
        ExperimentFile b = ExperimentFile.read(json);
        assertThat(b.orchestrators()).isEqualTo(a.orchestrators());
        assertThat(b.models()).isEqualTo(a.models());
        assertThat(b.ensembles()).isEqualTo(a.ensembles());
    }

    @Test
    void tlsIsReadFromTheFileAndOffUnlessAsked() throws IOException {
        ExperimentFile f = ExperimentFile.read(write("experiment.yaml", """
                name: demo
                orchestrators:
                  - { id: db, tls: true }
                  - { id: plain }
                """));
        assertThat(f.orchestrators()).extracting(OrchestratorSpec::tls).containsExactly(true, false);
    }

    @Test
    void aWrongTypeNamesTheLineTheFieldAndWhatItTakes() throws IOException {
        SpecFileException e = failure("experiment.yaml", """
                name: demo
                orchestrators:
                  - id: db
                    nodes: three
                """);
        assertThat(e.getMessage()).isEqualTo(dir.resolve("experiment.yaml")
                + ":4:12: orchestrators[0].nodes: 'three' is not a whole number");
        assertThat(e.line()).isEqualTo(4);
        assertThat(e.field()).isEqualTo("orchestrators[0].nodes");
    }

    @Test
    void aFractionIsNotSilentlyRoundedToANodeCount() throws IOException {
        SpecFileException e = failure("experiment.yaml", """
                name: demo
                models:
                  - name: sim
                    exe: /bin/true
                    run: { nodes: 1.5 }
                """);
        assertThat(e.getMessage()).endsWith(":5:19: models[0].run.nodes: '1.5' is not a whole number");
    }

    @Test
    void telemetryIsOnEvery5sUnlessTheFileSaysOtherwise() throws IOException {
        ExperimentFile x = ExperimentFile.read(write("experiment.yaml", """
                name: demo
                orchestrators:
                  - id: a
                  - id: b
                    telemetry: off
                  - id: c
                    telemetryInterval: 2s
                """));
        assertThat(x.orchestrators().get(0).telemetry()).isEqualTo(TelemetrySpec.DEFAULT);
        assertThat(x.orchestrators().get(1).telemetry().on()).isFalse();
        assertThat(x.orchestrators().get(2).telemetry()).isEqualTo(new TelemetrySpec(true,
                java.time.Duration.ofSeconds(2)));
    }

    @Test
    void aBadTelemetryValueIsLocatedAndNamed() throws IOException {
        SpecFileException e = failure("experiment.yaml", """
                name: demo
                orchestrators:
                  - id: db
                    telemetryInterval: 0s
                """);
        assertThat(e.getMessage()).isEqualTo(dir.resolve("experiment.yaml") + ":4:24: orchestrators[0]"
                + ".telemetryInterval: 0s is too short: give 100ms or more, for example 5s (or --telemetry off to "
                + "record nothing)");
        SpecFileException onOff = failure("experiment2.yaml", """
                name: demo
                orchestrators:
                  - id: db
                    telemetry: maybe
                """);
        assertThat(onOff.getMessage()).contains("orchestrators[0].telemetry: 'maybe' is not on or off");
    }

    @Test
    void anUnknownFieldListsTheFieldsAllowedThere() throws IOException {
        SpecFileException e = failure("experiment.yaml", """
                name: demo
                orchestrators:
                  - id: db
                    instancesPerNod: 3
                """);
        assertThat(e.getMessage()).isEqualTo(dir.resolve("experiment.yaml") + ":4:5: orchestrators[0]"
                + ".instancesPerNod: unknown field 'instancesPerNod'; the fields here are ai, auth, backend, checkpoint, "
                + "cpusPerShard, evictionPolicy, extraConfig, id, instancesPerNode, interfaces, launcher, "
                + "launcherOptions, lease, maxMemory, nodes, port, replicas, restart, serverBinary, startupTimeout, telemetry, "
                + "telemetryInterval, tls");
    }

    @Test
    void aMissingRequiredFieldIsNamed() throws IOException {
        SpecFileException e = failure("experiment.yaml", """
                name: demo
                models:
                  - name: sim
                    args: [a]
                """);
        assertThat(e.getMessage()).isEqualTo(dir.resolve("experiment.yaml")
                + ":3:5: models[0].exe: missing; this entry needs 'exe'");
    }

    @Test
    void badYamlIsReportedWhereTheParserStopped() throws IOException {
        SpecFileException e = failure("experiment.yaml", """
                name: demo
                models:
                  - name: sim
                    args: [a, b
                    exe: x
                """);
        assertThat(e.getMessage()).startsWith(dir.resolve("experiment.yaml") + ":5:");
        assertThat(e.getMessage()).contains(": syntax: not valid YAML: ");
    }

    @Test
    void badJsonIsReportedWhereTheParserStopped() throws IOException {
        SpecFileException e = failure("experiment.json", "{\"name\": \"demo\",\n \"models\": [ }\n");
        assertThat(e.getMessage()).startsWith(dir.resolve("experiment.json") + ":2:");
        assertThat(e.getMessage()).contains(": syntax: not valid JSON: ");
    }

    @Test
    void aBadEnumValueListsTheAllowedValuesAtItsLine() throws IOException {
        SpecFileException e = failure("experiment.yaml", """
                name: demo
                ensembles:
                  - name: sweep
                    exe: /bin/true
                    params: { a: [1, 2] }
                    strategy: every
                """);
        assertThat(e.getMessage()).isEqualTo(dir.resolve("experiment.yaml") + ":6:15: ensembles[0].strategy: "
                + "unknown strategy 'every'; use one of all_perm, step, random");
    }

    @Test
    void aSpecCheckIsLocatedAtTheFieldItNames() throws IOException {
        SpecFileException e = failure("experiment.yaml", """
                name: demo
                orchestrators:
                  - id: db
                    nodes: 1
                    instancesPerNode: 2
                """);
        assertThat(e.getMessage()).isEqualTo(dir.resolve("experiment.yaml") + ":4:12: orchestrators[0]"
                + ".nodes/instancesPerNode: 1 node(s) x 2 per node = 2 shards, but a Redis Cluster needs at least 3 "
                + "masters; use 1 shard (standalone) or 3 or more (cluster)");
    }

    @Test
    void aNestedSpecCheckIsLocatedToo() throws IOException {
        SpecFileException e = failure("experiment.yaml", """
                name: demo
                models:
                  - name: sim
                    exe: /bin/true
                    run:
                      nodes: 2
                      tasks: 9
                      tasksPerNode: 4
                """);
        assertThat(e.getMessage()).isEqualTo(dir.resolve("experiment.yaml") + ":7:14: models[0].run.tasks: 9 tasks "
                + "do not fit 2 node(s) x 4 per node = 8 task slots with every node used; give only one of tasks and "
                + "tasksPerNode, or make them agree");
    }

    @Test
    void aDuplicateKeyIsAnError() throws IOException {
        SpecFileException e = failure("experiment.yaml", """
                name: demo
                models:
                  - name: sim
                    exe: /bin/true
                    exe: /bin/false
                """);
        assertThat(e.getMessage()).startsWith(dir.resolve("experiment.yaml") + ":5:");
        assertThat(e.getMessage()).contains("Duplicate field 'exe'");
    }

    @Test
    void aLaterCheckIsLocatedThroughTheFile() throws IOException {
        Path f = write("experiment.yaml", """
                name: demo
                models:
                  - name: sim
                    exe: ./missing.sh
                """);
        ExperimentFile x = ExperimentFile.read(f);
        SpecFileException e = x.locate("models", 0, new io.smartsim.launch.error.InvalidSpecException("exe",
                "not found"));
        assertThat(e.getMessage()).isEqualTo(f + ":4:10: models[0].exe: not found");
    }

    @Test
    void randomNeedsSamplesAndASeedAndIsRepeatable() throws IOException {
        SpecFileException e = failure("experiment.yaml", """
                name: demo
                ensembles:
                  - name: sweep
                    exe: /bin/true
                    params: { a: [1, 2, 3], b: [x, y] }
                    strategy: random
                    samples: 4
                """);
        assertThat(e.getMessage()).endsWith(":3:5: ensembles[0].seed: missing: the random strategy needs a seed, so "
                + "that the plan can be printed and repeated, for example seed: 42");
        Path ok = write("ok.yaml", """
                name: demo
                ensembles:
                  - { name: sweep, exe: /bin/true, params: { a: [1, 2, 3], b: [x, y] }, strategy: random, samples: 4,
                      seed: 7 }
                """);
        List<Map<String, String>> first = ExperimentFile.read(ok).ensembles().get(0).members().stream()
                .map(ModelSpec::params).toList();
        assertThat(first).hasSize(4).doesNotHaveDuplicates();
        assertThat(ExperimentFile.read(ok).ensembles().get(0).members().stream().map(ModelSpec::params).toList())
                .isEqualTo(first);
        assertThat(ExperimentFile.read(ok).ensembles().get(0).seed()).isEqualTo(Optional.of(7L));
    }

    @Test
    void anEmptyFileSaysWhatItNeeds() throws IOException {
        SpecFileException e = failure("experiment.yaml", "");
        assertThat(e.getMessage()).endsWith("experiment.yaml:1:1: name: the file is empty; it needs at least 'name:' "
                + "and one orchestrator, model or ensemble");
    }

    @Test
    void modelsAndEnsemblesTakeLauncherOptionsAsOrchestratorsDo() throws IOException {
        Path f = write("experiment.yaml", """
                name: remote
                models:
                  - name: sim
                    exe: /opt/sim
                    launcher: ssh
                    run: {nodes: 2, tasksPerNode: 2}
                    launcherOptions: {hosts: "node1,node2", identity: /dev/null}
                ensembles:
                  - name: sweep
                    exe: /opt/sim
                    launcher: ssh
                    params: {alpha: [1, 2]}
                    launcherOptions: {hosts: node3}
                """);
        ExperimentFile x = ExperimentFile.read(f);
        assertThat(x.models().get(0).launcherOptions()).containsExactly(Map.entry("hosts", "node1,node2"),
                Map.entry("identity", "/dev/null"));
        assertThat(x.ensembles().get(0).member().launcherOptions()).containsExactly(Map.entry("hosts", "node3"));
    }
}
