package io.smartsim.launch.slurm;

import io.smartsim.launch.exec.CommandResult;
import io.smartsim.launch.exec.CommandRunner;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.spi.LaunchedModel;
import io.smartsim.launch.spi.ModelState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Where the Slurm model launcher's poll says a model runs ({@link ModelState#node}, which core records in the
 * model's handle). Slurm's commands are played by a {@link CommandRunner} that answers with the output captured on
 * the testbed (fixtures/README.txt): the wiring from squeue's and sacct's node lists to each model is what is tested
 * here, without a cluster; SlurmModelsIT checks the same against the real testbed (n1..n3). Before, poll said
 * nothing about nodes and a batch model's node stayed unknown ("-" on the dashboard).
 */
@Timeout(30)
class SlurmModelNodesTest {
    @TempDir
    Path dir;

    /** Answers squeue from the captured job and step lists (only the ids asked for) and sacct with its capture. */
    static final class Played implements CommandRunner {
        final List<List<String>> calls = new CopyOnWriteArrayList<>();

        @Override
        public CommandResult run(List<String> argv, Map<String, String> env, Duration timeout) {
            calls.add(List.copyOf(argv));
            String out;
            if (argv.get(0).equals("squeue") && argv.contains("-s")) {
                out = Golden.fixture("squeue-steps.txt");
            } else if (argv.get(0).equals("squeue")) {
                Set<String> ids = Set.of(argv.get(argv.indexOf("-j") + 1).split(","));
                List<String> lines = new ArrayList<>();
                (Golden.fixture("squeue-running.txt") + Golden.fixture("squeue-pending.txt")).lines()
                        .filter(l -> ids.contains(l.split("\\|", 2)[0])).forEach(lines::add);
                out = lines.isEmpty() ? "" : String.join("\n", lines) + "\n";
            } else if (argv.get(0).equals("sacct")) {
                out = Golden.fixture("sacct-completed.txt");
            } else {
                return new CommandResult(argv, 127, "", argv.get(0) + ": not played here");
            }
            return new CommandResult(argv, 0, out, "");
        }

        @Override
        public String where() {
            return "the testbed's captured output";
        }
    }

    private LaunchedModel batch(String name, String job) {
        return new LaunchedModel(name, SlurmLauncher.NAME, job, Optional.empty(), Instant.now(), Map.of(
                SlurmModelLauncher.JOB, job, SlurmModelLauncher.MODE, SlurmModelLauncher.MODE_BATCH,
                SlurmModelLauncher.EXIT_FILE, dir.resolve(name + ".exit").toString()));
    }

    @Test
    void aRunningBatchJobNamesItsNodesAPendingOneNoneAndAnEndedOneSacctsNodes() {
        Played slurm = new Played();
        SlurmModelLauncher launcher = new SlurmModelLauncher(slurm, Map.of());
        // a step another process started (in holder job 34), which squeue -s lists on n2
        LaunchedModel step = new LaunchedModel("stepped", SlurmLauncher.NAME, "34.3", Optional.empty(), Instant.now(),
                Map.of(SlurmModelLauncher.JOB, "34", SlurmModelLauncher.STEP, "3", SlurmModelLauncher.MODE,
                        SlurmModelLauncher.MODE_ALLOC));

        Map<String, ModelState> s = launcher.poll(List.of(batch("runs", "25"), batch("waits", "26"),
                batch("ended", "28"), step));

        assertThat(s.get("runs").status()).isEqualTo(EntityStatus.RUNNING);
        assertThat(s.get("runs").node()).as("squeue %N, compressed as Slurm prints it").hasValue("n[1-3]");
        assertThat(s.get("waits").status()).isEqualTo(EntityStatus.QUEUED);
        assertThat(s.get("waits").node()).as("pending: no node yet").isEmpty();
        // job 28 has left the queue and its script wrote no exit file: sacct's record decides, and says where it ran
        assertThat(s.get("ended").status()).isEqualTo(EntityStatus.FAILED);
        assertThat(s.get("ended").exitCode()).hasValue(3);
        assertThat(s.get("ended").node()).as("sacct NodeList").hasValue("n1");
        assertThat(s.get("stepped").status()).isEqualTo(EntityStatus.RUNNING);
        assertThat(s.get("stepped").node()).as("squeue -s %N").hasValue("n2");
        assertThat(slurm.calls).anySatisfy(c -> assertThat(c).startsWith("sacct"));
    }
}
