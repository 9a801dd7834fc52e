package io.smartsim.launch.slurm;

import io.smartsim.launch.slurm.SlurmParsers.ShardReport;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The launcher's pure checks on where the shards landed, before any cluster is formed. */
class SlurmLauncherTest {

    private static ShardReport report(String address, int port, String node, String host) {
        return new ShardReport(address, List.of(address), port, node, host, "34", "0", Optional.empty());
    }

    @Test
    void debianLoopbackOnSeveralHostsIsRefusedWithAdviceToUseInterface() {
        // What a Debian cluster's /etc/hosts does: every node's own name resolves to 127.0.1.1.
        Optional<String> problem = SlurmLauncher.addressProblem(Map.of(
                0, report("127.0.1.1", 6780, "nid001", "nid001"),
                1, report("127.0.1.1", 6780, "nid002", "nid002"),
                2, report("127.0.1.1", 6780, "nid003", "nid003")));
        assertThat(problem).hasValueSatisfying(p -> assertThat(p)
                .startsWith("shard 0 on node nid001 (host nid001) got the loopback address 127.0.1.1, but the shards "
                        + "run on 3 hosts (nid001, nid002, nid003), which cannot reach it there.")
                .contains("/etc/hosts maps a machine's own name to 127.0.1.1")
                .contains("pass --interface"));
    }

    @Test
    void loopbackFromTheOneHostOfTheTestbedIsFine() {
        // testbeds/slurm: n1-n3 are one machine at 127.0.1.1-3; every shard reaches every other.
        assertThat(SlurmLauncher.addressProblem(Map.of(
                0, report("127.0.1.1", 21380, "n1", "vm"),
                1, report("127.0.1.2", 21380, "n2", "vm"),
                2, report("127.0.1.3", 21380, "n3", "vm")))).isEmpty();
    }

    @Test
    void oneHostWithLoopbackIsFine() {
        assertThat(SlurmLauncher.addressProblem(Map.of(0, report("127.0.1.1", 6780, "nid001", "nid001")))).isEmpty();
    }

    @Test
    void twoNodesOnTheSameAddressAndPortAreRefused() {
        Optional<String> problem = SlurmLauncher.addressProblem(Map.of(
                0, report("10.0.0.5", 6780, "n1", "a"),
                1, report("10.0.0.5", 6781, "n1", "a"),
                2, report("10.0.0.5", 6780, "n2", "a")));
        assertThat(problem).contains("shards 0 (node n1) and 2 (node n2) both reported 10.0.0.5:6780: the nodes' "
                + "names or the interface given resolve to the same address on different nodes; pass --interface "
                + "with the interface of the network the nodes share");
    }

    @Test
    void distinctRoutableAddressesAreFine() {
        assertThat(SlurmLauncher.addressProblem(Map.of(
                0, report("10.0.0.1", 6780, "n1", "n1"),
                1, report("10.0.0.2", 6780, "n2", "n2"),
                2, report("10.0.0.3", 6780, "n3", "n3")))).isEmpty();
    }

}
