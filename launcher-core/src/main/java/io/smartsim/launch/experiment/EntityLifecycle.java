package io.smartsim.launch.experiment;

import io.smartsim.launch.error.StateException;
import io.smartsim.launch.manifest.OrchestratorRecord;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.status.OrchestratorCleanup;
import io.smartsim.launch.util.Deadline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What the facade's start, stop and cleanup do with several entities at once: orchestrators first, each healthy
 * before the next, then the models with the database variables; a failure stops what that call started before it is
 * thrown. Generic in the API's types as {@link Entities} is: the facade sorts its arguments ({@code O}: its
 * orchestrators, {@code M}: its models, ensemble members included) and passes how one orchestrator starts and stops.
 */
public final class EntityLifecycle<O extends OrchestratorHandle, M extends ModelHandle> {
    /** How long a blocking start waits for its models: as long as they run. */
    static final Duration BLOCK_FOREVER = Duration.ofDays(3650);

    private final Entities<O, M, ?> entities;
    private final ModelRunner runner;
    private final StartedHere here;
    private final Consumer<O> startOne;
    private final Consumer<O> stopOne;
    private final Supplier<Map<String, String>> dbEnv;

    /**
     * @param startOne starts one orchestrator, healthy, supervised here
     * @param stopOne  stops one running orchestrator
     * @param dbEnv    the database variables of the orchestrators running now
     */
    public EntityLifecycle(Entities<O, M, ?> entities, ModelRunner runner, StartedHere here, Consumer<O> startOne,
                           Consumer<O> stopOne, Supplier<Map<String, String>> dbEnv) {
        this.entities = entities;
        this.runner = runner;
        this.here = here;
        this.startOne = startOne;
        this.stopOne = stopOne;
        this.dbEnv = dbEnv;
    }

    /**
     * Starts {@code dbs} in turn, then {@code ms} with {@link #dbEnv}; with {@code block}, returns once every model
     * has finished. If a start fails, the models and orchestrators this call started are stopped first.
     */
    public void start(List<O> dbs, List<M> ms, boolean block) {
        entities.refuseToStart(ms);
        List<O> dbsNow = new ArrayList<>();
        List<M> modelsNow = new ArrayList<>();
        try {
            for (O db : dbs) {
                startOne.accept(db);
                dbsNow.add(db);
            }
            Map<String, String> env = dbEnv.get();
            for (M m : ms) {
                runner.start(m, env, here::armStopOnExit);
                modelsNow.add(m);
            }
        } catch (RuntimeException e) {
            try {
                runner.stop(modelsNow);
                dbsNow.forEach(stopOne);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        if (block) {
            runner.await(ms, Deadline.after(BLOCK_FOREVER));
        }
    }

    /** Stops {@code ms} (finished ones are left as they are), then {@code dbs}; a model never started is refused. */
    public void stop(List<O> dbs, List<M> ms) {
        for (M m : ms) {
            if (m.status() == EntityStatus.NEW) {
                throw new StateException("model '" + m.name() + "' was never started; nothing to stop");
            }
        }
        runner.stop(ms);
        dbs.forEach(stopOne);
    }

    /** Whether every one of {@code ms} has finished, asked now. */
    public boolean finished(List<M> ms) {
        runner.refresh(ms);
        return ms.stream().allMatch(m -> m.status().terminal());
    }

    /**
     * {@link OrchestratorControl#cleanup} of each of {@code records} (only {@code id}'s, when given: refused when not
     * among them); an orchestrator known here and cleaned up whole is no longer stopped by this instance's close.
     *
     * @param known the ids known here and recorded, for the error
     */
    public List<OrchestratorCleanup> cleanup(OrchestratorControl control, List<OrchestratorRecord> records,
                                             Optional<String> id, Supplier<String> known, String where) {
        if (id.isPresent() && records.stream().noneMatch(r -> r.id().equals(id.get()))) {
            throw new StateException("no orchestrator '" + id.get() + "' in " + where + "; known here: " + known.get());
        }
        List<OrchestratorCleanup> out = new ArrayList<>();
        for (OrchestratorRecord r : records) {
            if (id.isEmpty() || r.id().equals(id.get())) {
                control.cleanup(r).ifPresent(c -> {
                    entities.cleanedUp(c).ifPresent(here::forget);
                    out.add(c);
                });
            }
        }
        return out;
    }
}
