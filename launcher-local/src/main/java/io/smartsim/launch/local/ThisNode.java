package io.smartsim.launch.local;

import io.smartsim.launch.util.HostName;

/**
 * The node everything the local launchers start runs on: this machine, by its short host name, what
 * {@code hostname -s} prints and the colocated wrapper names its files with. The shards ({@link LocalLauncher}) and
 * the models ({@link LocalModelLauncher}) record it under their handles' {@code node} key, so the dashboard's shard,
 * model and colocated rows, {@code db status --json} and the {@code node} label of {@code /metrics} name the same
 * node. (The plan's node index of a shard, which on this launcher only numbers the slots of one machine, stays in
 * the plan: {@code ShardPlan.node()}, the NODE column of {@code db plan}.)
 */
final class ThisNode {
    private ThisNode() {
    }

    /** {@link HostName#shortName()}. */
    static String name() {
        return HostName.shortName();
    }

    /** {@link HostName#shortName(String)}. */
    static String shortName(String host) {
        return HostName.shortName(host);
    }
}
