package io.smartsim.launch.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code db plan --port auto}: what it would choose where it can see the ports, and a refusal where it cannot. */
class PortAutoPlanTest {
    @TempDir
    Path tmp;

    @Test
    void planSaysWhichBaseAutoChoseAndTheTableShowsIt() {
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", tmp.resolve("exp").toString(), "--per-node", "3", "--port",
                "auto");
        assertThat(r.exit()).as(r.toString()).isZero();
        List<String> lines = r.out().lines().toList();
        String chosen = lines.stream().filter(l -> l.startsWith("  ports: ")).findFirst().orElseThrow();
        int base = Integer.parseInt(chosen.replaceAll("^  ports: --port auto chose base (\\d+),.*$", "$1"));
        assertThat(chosen).isEqualTo("  ports: --port auto chose base " + base + ", the lowest from the one asked for "
                + "up that is free now on every node; db start looks again when it starts");
        assertThat(base).isBetween(6780, 65535 - 10000 - 2);
        int header = lines.indexOf(lines.stream().filter(l -> l.startsWith("SHARD")).findFirst().orElseThrow());
        assertThat(Arrays.asList(lines.get(header + 1).strip().split("\\s{2,}"))).contains(Integer.toString(base),
                Integer.toString(base + 10000));
    }

    @Test
    void asABatchJobPlanRefusesAutoByNameWithTheFix() {
        Cli.Result r = Cli.run("db", "plan", "--exp-dir", tmp.resolve("exp").toString(), "--launcher", "slurm",
                "--nodes", "3", "--batch", "--port", "auto");
        assertThat(r.exit()).as(r.toString()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("error: port (--port): --port auto is not available with batch=true: "
                + "the batch job's nodes are only known once it runs, after its ports are planned; give a fixed base "
                + "port, for example --port 6780, or run inside an allocation (--alloc) where the nodes' free ports "
                + "can be read first");
        assertThat(tmp.resolve("exp")).as("plan writes nothing").doesNotExist();
    }
}
