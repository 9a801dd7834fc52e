package io.smartsim.launch.status;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One row of an experiment's summary.
 *
 * @param name     entity name
 * @param type     Orchestrator, Model or Ensemble member
 * @param id       what the launcher calls it: pids, job id, {@code jobid.stepid}
 * @param status   NEW, QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED for models; the orchestrator's state
 * @param exitCode a model's exit code, once known
 * @param elapsed  run time so far, once started
 */
public record EntitySummary(String name, String type, Optional<String> id, String status, Optional<Integer> exitCode,
                            Optional<Duration> elapsed) {
    public EntitySummary {
        id = id == null ? Optional.empty() : id;
        exitCode = exitCode == null ? Optional.empty() : exitCode;
        elapsed = elapsed == null ? Optional.empty() : elapsed;
    }

    /** The summary as a table: NAME, TYPE, ID, STATUS, EXIT, ELAPSED; "-" where there is nothing yet. */
    public static String table(List<EntitySummary> rows) {
        List<List<String>> cells = new ArrayList<>();
        cells.add(List.of("NAME", "TYPE", "ID", "STATUS", "EXIT", "ELAPSED"));
        for (EntitySummary r : rows) {
            cells.add(List.of(r.name(), r.type(), r.id().orElse("-"), r.status(),
                    r.exitCode().map(String::valueOf).orElse("-"),
                    r.elapsed().map(d -> String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0)).orElse("-")));
        }
        int[] width = new int[6];
        for (List<String> row : cells) {
            for (int i = 0; i < width.length; i++) {
                width[i] = Math.max(width[i], row.get(i).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (List<String> row : cells) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < width.length; i++) {
                line.append(row.get(i)).append(" ".repeat(width[i] - row.get(i).length() + 2));
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }
}
