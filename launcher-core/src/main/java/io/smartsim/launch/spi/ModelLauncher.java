package io.smartsim.launch.spi;

import io.smartsim.launch.planned.ModelPlan;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs models (applications) for a workload manager: a local process, an srun step, a batch job. A separate SPI
 * from {@link Launcher} (which runs database shards), so a launcher module adds model support in a class of its
 * own and the two evolve apart. Implementations register in
 * {@code META-INF/services/io.smartsim.launch.spi.ModelLauncher}, have a public no-argument constructor, and are
 * found by {@link #name()} through {@link ModelLaunchers}; by convention the name is that of the module's
 * {@link Launcher}. Core calls {@link #validate}, then {@link #start}, then {@link #poll} until the model is done,
 * and {@link #stop} to cancel. One instance tracks the models it started.
 */
public interface ModelLauncher {

    /** The name users give as a model's {@code launcher}. */
    String name();

    /**
     * Whether it runs each rank of a model with a colocated database through the plan's wrapper
     * ({@link io.smartsim.launch.planned.ModelPlan#rankArgv()}); core refuses {@code colocatedDb} with a launcher that
     * does not, naming the field.
     */
    default boolean runsColocatedDatabases() {
        return false;
    }

    /**
     * The launcher options its models take ({@link io.smartsim.launch.planned.ModelPlan#launcherOptions()}); core
     * refuses a model giving any other key, naming these. None by default.
     */
    default Set<String> optionKeys() {
        return Set.of();
    }

    /**
     * Refuses what this launcher cannot honour (run settings, executable), with an
     * {@link io.smartsim.launch.error.InvalidSpecException} naming the field and the numbers. Starts nothing.
     */
    void validate(ModelPlan plan);

    /**
     * What {@link #start} would run, for a dry run: the command and every script it would write, rendered with
     * {@code dbEnv} (the database variables). Pure: writes nothing.
     */
    RenderedLaunch render(ModelPlan plan, Map<String, String> dbEnv);

    /**
     * Starts the model with {@code dbEnv} and the plan's own environment (the plan's wins) and returns once its
     * process exists or its job is submitted. The plan's directories and files are already written.
     */
    LaunchedModel start(ModelPlan plan, Map<String, String> dbEnv);

    /** The state of each model, keyed by {@link LaunchedModel#name()}; one query for all of them. */
    Map<String, ModelState> poll(List<LaunchedModel> models);

    /**
     * Cancels the models: terminate, wait up to {@code grace}, then kill. Safe for models already finished;
     * afterwards {@link #poll} reports the ones it ended as CANCELLED.
     */
    void stop(List<LaunchedModel> models, Duration grace);

    /**
     * Lets go of what it holds open to watch its models (connections), when the experiment that made it closes; the
     * models themselves are not stopped. It may still be used afterwards, opening them again. Nothing by default.
     */
    default void close() {
    }
}
