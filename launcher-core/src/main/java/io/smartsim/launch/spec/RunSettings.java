package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How a model is run: the resources its run command asks for, and whether it is its own batch job. A launcher
 * refuses what it cannot honour, naming the field (the local launcher runs one process on this machine).
 *
 * @param nodes        nodes
 * @param tasks        total tasks (MPI ranks); empty means nodes x tasksPerNode
 * @param tasksPerNode tasks per node; empty means the run command's default (1 when tasks is empty too)
 * @param cpusPerTask  CPUs per task
 * @param runArgs      extra arguments for the run command, verbatim, for example {@code --exclusive}
 * @param batch        run as a batch job of its own with these settings; empty means a step of the current
 *                     allocation (or a plain process for the local launcher)
 * @param alloc        the allocation (job id) whose step it becomes; empty means the one this process runs in
 *                     ({@code SLURM_JOB_ID}); not with {@code batch}
 */
public record RunSettings(int nodes, Optional<Integer> tasks, Optional<Integer> tasksPerNode, int cpusPerTask,
                          List<String> runArgs, Optional<BatchSettings> batch, Optional<String> alloc) {
    public RunSettings {
        alloc = alloc == null ? Optional.empty() : alloc;
        tasks = tasks == null ? Optional.empty() : tasks;
        tasksPerNode = tasksPerNode == null ? Optional.empty() : tasksPerNode;
        runArgs = List.copyOf(runArgs == null ? List.of() : runArgs);
        batch = batch == null ? Optional.empty() : batch;
        if (nodes < 1) {
            throw new InvalidSpecException("run.nodes", nodes + " is not a node count; use 1 or more");
        }
        tasks.ifPresent(t -> {
            if (t < 1) {
                throw new InvalidSpecException("run.tasks", t + " is not a task count; use 1 or more");
            }
        });
        tasksPerNode.ifPresent(t -> {
            if (t < 1) {
                throw new InvalidSpecException("run.tasksPerNode", t + " is not a task count; use 1 or more per node");
            }
        });
        if (tasks.isPresent() && tasksPerNode.isPresent()) {
            long room = (long) nodes * tasksPerNode.get();
            if (tasks.get() > room || tasks.get() <= room - tasksPerNode.get()) {
                throw new InvalidSpecException("run.tasks", tasks.get() + " tasks do not fit " + nodes + " node(s) x "
                        + tasksPerNode.get() + " per node = " + room + " task slots with every node used; give only "
                        + "one of tasks and tasksPerNode, or make them agree");
            }
        }
        if (cpusPerTask < 1) {
            throw new InvalidSpecException("run.cpusPerTask", cpusPerTask + " is not a CPU count; use 1 or more");
        }
        for (String a : runArgs) {
            if (a == null || a.isEmpty()) {
                throw new InvalidSpecException("run.runArgs", "an empty run-command argument; remove it");
            }
        }
        alloc.ifPresent(a -> {
            if (!a.matches("[0-9]+")) {
                throw new InvalidSpecException("run.alloc", "'" + a + "' is not a job id; give the allocation's "
                        + "number, as squeue or salloc prints it (for example 1234)");
            }
        });
        if (alloc.isPresent() && batch.isPresent()) {
            throw new InvalidSpecException("run.alloc", "a model is either a step of allocation " + alloc.get()
                    + " or a batch job of its own, not both; remove alloc or batch");
        }
    }

    /** One node, one task, one CPU, no extra arguments, no batch job, no allocation named. */
    public static RunSettings defaults() {
        return builder().build();
    }

    /** Tasks in all: {@code tasks}, or nodes x tasksPerNode. */
    public int totalTasks() {
        return tasks.orElse(nodes * tasksPerNode.orElse(1));
    }

    /** Whether anything differs from {@link #defaults()}. */
    public boolean isDefault() {
        return equals(defaults());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Mutable builder; defaults as {@link #defaults()}. */
    public static final class Builder {
        private int nodes = 1;
        private Integer tasks;
        private Integer tasksPerNode;
        private int cpusPerTask = 1;
        private List<String> runArgs = new ArrayList<>();
        private BatchSettings batch;
        private String alloc;

        private Builder() {
        }

        public Builder nodes(int v) { this.nodes = v; return this; }
        public Builder tasks(int v) { this.tasks = v; return this; }
        public Builder tasksPerNode(int v) { this.tasksPerNode = v; return this; }
        public Builder cpusPerTask(int v) { this.cpusPerTask = v; return this; }
        public Builder runArgs(List<String> v) { this.runArgs = new ArrayList<>(v); return this; }
        public Builder runArg(String v) { this.runArgs.add(v); return this; }
        public Builder batch(BatchSettings v) { this.batch = v; return this; }
        public Builder alloc(String v) { this.alloc = v; return this; }

        public RunSettings build() {
            return new RunSettings(nodes, Optional.ofNullable(tasks), Optional.ofNullable(tasksPerNode), cpusPerTask,
                    runArgs, Optional.ofNullable(batch), Optional.ofNullable(alloc));
        }
    }
}
