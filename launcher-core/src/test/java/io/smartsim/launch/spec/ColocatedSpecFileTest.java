package io.smartsim.launch.spec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** {@code colocatedDb:} under a model or ensemble reads as the Java API builds it; its mistakes are located. */
class ColocatedSpecFileTest {
    @TempDir
    Path dir;

    private ExperimentFile read(String text) throws IOException {
        Path f = dir.resolve("experiment.yaml");
        Files.writeString(f, text);
        return ExperimentFile.read(f);
    }

    private String failure(String text) throws IOException {
        Throwable t = catchThrowable(() -> read(text));
        assertThat(t).isInstanceOf(SpecFileException.class);
        return t.getMessage();
    }

    @Test
    void aSocketAndATcpDatabaseReadAsTheJavaApiBuildsThem() throws IOException {
        ExperimentFile f = read("""
                name: colo
                models:
                  - name: sim
                    exe: ./sim.sh
                    run: { tasks: 2 }
                    colocatedDb: { unixSocket: /tmp/ssdb.sock, socketPermissions: 750, cpus: 2, pinning: "1",
                                   config: ["maxmemory 1gb"] }
                ensembles:
                  - name: sweep
                    exe: ./sim.sh
                    params: { a: [1, 2] }
                    colocatedDb: { port: 6780, interfaces: [ib0], backend: keydb, pinning: [] }
                """);
        ModelSpec sim = f.models().get(0);
        assertThat(sim.colocatedDb()).contains(ColocatedDb.unixSocket("/tmp/ssdb.sock", 0750).cpus(2).pinning("1")
                .config("maxmemory 1gb"));
        assertThat(f.ensembles().get(0).member().colocatedDb()).contains(ColocatedDb.tcp(6780).interfaces("ib0")
                .backend(Backend.KEYDB).noPinning());
        assertThat(read("""
                name: colo
                models: [{ name: sim, exe: ./sim.sh, colocatedDb: { unixSocket: /tmp/s.sock, socketPermissions: "0700" } }]
                """).models().get(0).colocatedDb().map(ColocatedDb::socketPermissions)).isEqualTo(Optional.of(0700));
    }

    @Test
    void mistakesAreLocatedAndNamed() throws IOException {
        assertThat(failure("""
                name: colo
                models:
                  - name: sim
                    exe: ./sim.sh
                    colocatedDb: { cpus: 2 }
                """)).contains(":5:").contains("models[0].colocatedDb: give either port");
        assertThat(failure("""
                name: colo
                models:
                  - name: sim
                    exe: ./sim.sh
                    colocatedDb:
                      unixSocket: /tmp/a b.sock
                """)).contains(":6:").contains("models[0].colocatedDb.unixSocket:").contains("characters");
        assertThat(failure("""
                name: colo
                models:
                  - name: sim
                    exe: ./sim.sh
                    colocatedDb:
                      unixSocket: /tmp/s.sock
                      socketPermissions: 789
                """)).contains(":7:").contains("models[0].colocatedDb.socketPermissions: '789'");
        assertThat(failure("""
                name: colo
                ensembles:
                  - name: sweep
                    exe: ./sim.sh
                    params: { a: [1] }
                    colocatedDb:
                      port: 6780
                      pinning: "0-x"
                """)).contains(":8:").contains("ensembles[0].colocatedDb.pinning:");
        assertThat(failure("""
                name: colo
                models:
                  - name: sim
                    exe: ./sim.sh
                    colocatedDb: { port: 6780, sockets: 2 }
                """)).contains("unknown field 'sockets'");
    }

    @Test
    void modelsAndScriptsReadAsTheJavaApiBuildsThemAndTheirMistakesAreNamed() throws IOException {
        ExperimentFile f = read("""
                name: colo
                models:
                  - name: sim
                    exe: ./sim.sh
                    colocatedDb:
                      unixSocket: /tmp/ssdb.sock
                      models:
                        - { name: mlp, backend: onnx, file: mlp.onnx, batchSize: 4 }
                        - { name: g, backend: TF, device: GPU, file: g.pb, inputs: [x], outputs: [y] }
                      scripts:
                        - { name: pre, file: pre.py }
                """);
        assertThat(f.models().get(0).colocatedDb()).contains(ColocatedDb.unixSocket("/tmp/ssdb.sock", 0755)
                .withModel(ColocatedModel.of("mlp", "ONNX", "CPU", "mlp.onnx").batching(4, 0, 0))
                .withModel(ColocatedModel.of("g", "TF", "GPU", "g.pb").nodes(List.of("x"), List.of("y")))
                .withScript("pre", "CPU", "pre.py"));
        assertThat(failure("""
                name: colo
                models:
                  - name: sim
                    exe: ./sim.sh
                    colocatedDb:
                      port: 6780
                      models: [{ name: m, backend: caffe, file: m.bin }]
                """)).contains("colocatedDb.models (m).backend").contains("'caffe' is not a backend");
        assertThat(failure("""
                name: colo
                models:
                  - name: sim
                    exe: ./sim.sh
                    colocatedDb:
                      port: 6780
                      models: [{ name: m, backend: ONNX }]
                """)).contains("file");
    }
}
