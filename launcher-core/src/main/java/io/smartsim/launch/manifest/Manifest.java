package io.smartsim.launch.manifest;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The experiment's record of its orchestrators, kept as {@code manifest.json} in the experiment directory.
 *
 * @param version       format version; this code writes and reads {@link #VERSION}
 * @param experiment    experiment name
 * @param orchestrators one entry per orchestrator id
 * @param models        one entry per started model or ensemble member, by name (absent from older manifests)
 */
public record Manifest(int version, String experiment, List<OrchestratorRecord> orchestrators,
                       List<ModelRecord> models) {
    public static final int VERSION = 1;

    public Manifest {
        orchestrators = List.copyOf(orchestrators == null ? List.of() : orchestrators);
        models = List.copyOf(models == null ? List.of() : models);
    }

    public static Manifest empty(String experiment) {
        return new Manifest(VERSION, experiment, List.of(), List.of());
    }

    public Optional<ModelRecord> findModel(String name) {
        return models.stream().filter(m -> m.name().equals(name)).findFirst();
    }

    /** This manifest with {@code rec} replacing the model of the same name, or added after the others. */
    public Manifest withModel(ModelRecord rec) {
        List<ModelRecord> next = new ArrayList<>(models);
        next.removeIf(m -> m.name().equals(rec.name()));
        int at = -1;
        for (int i = 0; i < models.size(); i++) {
            if (models.get(i).name().equals(rec.name())) {
                at = i;
            }
        }
        next.add(at >= 0 ? at : next.size(), rec);
        return new Manifest(version, experiment, orchestrators, next);
    }

    public Optional<OrchestratorRecord> find(String id) {
        return orchestrators.stream().filter(o -> o.id().equals(id)).findFirst();
    }

    public Manifest with(OrchestratorRecord rec) {
        List<OrchestratorRecord> next = new ArrayList<>(orchestrators);
        int at = -1;
        for (int i = 0; i < next.size(); i++) {
            if (next.get(i).id().equals(rec.id())) {
                at = i;
            }
        }
        if (at >= 0) {
            next.set(at, rec);
        } else {
            next.add(rec);
        }
        return new Manifest(version, experiment, next, models);
    }
}
