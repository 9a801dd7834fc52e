package io.smartsim.launch;

import io.smartsim.launch.spec.EnsembleSpec;
import io.smartsim.launch.spi.EntityStatus;

import java.util.List;

/** N models from one spec and a parameter grid. Starting, polling and stopping it applies to every member. */
public final class Ensemble implements Entity {
    private final EnsembleSpec spec;
    private final List<Model> members;

    Ensemble(EnsembleSpec spec, List<Model> members) {
        this.spec = spec;
        this.members = List.copyOf(members);
    }

    @Override
    public String name() {
        return spec.name();
    }

    @Override
    public String type() {
        return "Ensemble";
    }

    public EnsembleSpec spec() {
        return spec;
    }

    public List<Model> members() {
        return members;
    }

    /** Whether every member has finished (COMPLETED, FAILED or CANCELLED) as of the last poll. */
    public boolean done() {
        return members.stream().allMatch(m -> m.status().terminal());
    }

    /** Whether every member COMPLETED. */
    public boolean completed() {
        return members.stream().allMatch(m -> m.status() == EntityStatus.COMPLETED);
    }

    @Override
    public String toString() {
        return "Ensemble[" + name() + ", " + members.size() + " members]";
    }
}
