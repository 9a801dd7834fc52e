package io.smartsim.launch.spi;

import java.util.Optional;

/**
 * What a launcher knows about a model now.
 *
 * @param status   its status
 * @param exitCode its exit code, once it has exited and the launcher knows it
 * @param detail   why, for FAILED or CANCELLED ("killed by signal 9", "could not start: ...")
 * @param node     where it runs, once the scheduler says so (a batch job's or step's nodes are known only once it
 *                 runs): the value core records under {@link LaunchedModel#NODE} in the model's handle. Several
 *                 nodes as the scheduler writes them (Slurm's compressed {@code n[1-3]}; PBS comma-separated
 *                 {@code n1,n2}). Empty when the launcher learnt nothing new (the handle keeps what it has)
 */
public record ModelState(EntityStatus status, Optional<Integer> exitCode, Optional<String> detail,
                         Optional<String> node) {
    public ModelState {
        exitCode = exitCode == null ? Optional.empty() : exitCode;
        detail = detail == null ? Optional.empty() : detail;
        node = node == null ? Optional.empty() : node.map(String::strip).filter(n -> !n.isEmpty());
    }

    /** Without a node: the launcher says nothing about where the model runs. */
    public ModelState(EntityStatus status, Optional<Integer> exitCode, Optional<String> detail) {
        this(status, exitCode, detail, Optional.empty());
    }

    public static ModelState of(EntityStatus status) {
        return new ModelState(status, Optional.empty(), Optional.empty());
    }

    /** This state, saying the model runs (or ran) on {@code node}; empty leaves it unsaid. */
    public ModelState withNode(Optional<String> node) {
        return new ModelState(status, exitCode, detail, node);
    }
}
