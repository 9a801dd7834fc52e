package io.smartsim.launch.pbs;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.OrchestratorSpec;
import io.smartsim.launch.spi.LaunchedShard;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code db start --launcher pbs} as a user runs it inside a PBS job script, for {@link OpenPbsDshIT}: a process of its
 * own, so that its environment is the job's ({@code PBS_JOBID}, {@code PBS_NODEFILE}) and its PATH finds the OpenPBS
 * stand-in {@code pbsdsh} first, as the launcher's {@code runCommand=auto} and every command it runs see them.
 *
 * <p>Arguments: the experiment directory, then {@code key=value}: {@code nodes}, {@code perNode}, {@code port},
 * {@code auto} (--port auto), {@code replicas}, {@code batch}. Prints the progress lines, then {@code PORTS p,...} and
 * {@code JOB id} and exits 0, leaving the orchestrator running (detached, as {@code db start} does); on failure
 * prints {@code ERROR class: message} and exits 1.
 */
public final class OpenPbsJobStart {
    private OpenPbsJobStart() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        Map<String, String> kv = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            kv.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        OrchestratorSpec.Builder b = OrchestratorSpec.builder().launcher("pbs")
                .nodes(Integer.parseInt(kv.getOrDefault("nodes", "3")))
                .instancesPerNode(Integer.parseInt(kv.getOrDefault("perNode", "1")))
                .port(Integer.parseInt(kv.get("port"))).autoPort(Boolean.parseBoolean(kv.getOrDefault("auto", "false")))
                .replicas(Integer.parseInt(kv.getOrDefault("replicas", "0")))
                .startupTimeout(Duration.ofSeconds(120));
        if (Boolean.parseBoolean(kv.getOrDefault("batch", "false"))) {
            b.launcherOption("batch", "true").launcherOption("time", "00:10:00");
        }
        try (Experiment exp = Experiment.create("openpbs", dir, line -> System.out.println("progress: " + line))) {
            Orchestrator db = exp.createOrchestrator(b.build());
            exp.start(db);
            System.out.println("PORTS " + db.shards().stream().map(s -> Integer.toString(s.port()))
                    .collect(Collectors.joining(",")));
            System.out.println("JOB " + db.shards().stream().map(LaunchedShard::handle).map(h -> h.get(PbsLauncher.JOB))
                    .findFirst().orElse("?"));
            exp.detach(db);
        } catch (RuntimeException e) {
            System.out.println("ERROR " + e.getClass().getSimpleName() + ": " + e.getMessage());
            System.out.flush();
            System.exit(1);
        }
        System.exit(0);
    }
}
