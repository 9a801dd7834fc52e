package io.smartsim.launch.util;

import io.smartsim.launch.util.ListeningPorts.Listener;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class ListeningPortsTest {
    /**
     * Captured from the Slurm testbed host (Debian 12, Linux 6.x) with test sockets on ::1:41001, 127.0.1.2:41002 and
     * 0.0.0.0:41003 besides slurmd (6818) on 127.0.1.1-3 and 127.0.0.1; two nodes' lines interleaved, as one
     * {@code srun} step prints them, and a line of srun's own.
     */
    private static final String OUTPUT = String.join("\n",
            "listen n1 0201007F:A02A",
            "listen n2 0201007F:A02A",
            "listen n1 0201007F:08AE",
            "srun: warning: can't run 1 processes on 2 nodes, setting nnodes to 1",
            "listen n1 0100007F:08AE",
            "listen n1 00000000:A02B",
            "listen n2 00000000000000000000000001000000:A029",
            "listen n1 00000000000000000000000001000000:A029",
            "listen n1 0000000000000000FFFF00000100007F:8F5E",
            "listen n1 00000000000000000000000000000000:1F90",
            "done n1",
            "listen n3 0100007F:0016",
            "");

    @Test
    void parsesAddressesAndPortsPerNodeAndOnlyNodesThatFinished() {
        Map<String, Set<Listener>> parsed = ListeningPorts.parse(OUTPUT + "done n2\n");
        assertThat(parsed.keySet()).containsExactly("n1", "n2");
        assertThat(parsed.get("n1")).containsExactlyInAnyOrder(
                new Listener("127.0.1.2", 41002),
                new Listener("127.0.1.2", 2222),
                new Listener("127.0.0.1", 2222),
                new Listener("0.0.0.0", 41003),
                new Listener("0:0:0:0:0:0:0:1", 41001),
                new Listener("127.0.0.1", 36702), // ::ffff:127.0.0.1, as an IPv4 bind sees it
                new Listener("::", 8080));
        assertThat(parsed.get("n2")).containsExactlyInAnyOrder(new Listener("127.0.1.2", 41002),
                new Listener("0:0:0:0:0:0:0:1", 41001));
        assertThat(ListeningPorts.missing(List.of("n1", "n2", "n3", "n1"), parsed)).containsExactly("n3");
    }

    @Test
    void aListenerBlocksItsOwnAddressEveryAddressWhenWildcardAndAnyAddressWhenTheBindIsNotKnown() {
        Listener specific = new Listener("127.0.1.2", 41002);
        assertThat(specific.blocks(List.of("127.0.1.2"), 41002)).isTrue();
        assertThat(specific.blocks(List.of("127.0.1.1"), 41002)).isFalse();
        assertThat(specific.blocks(List.of("127.0.1.2"), 41003)).isFalse();
        assertThat(specific.blocks(List.of(), 41002)).as("the node picks its address at launch").isTrue();
        assertThat(new Listener("0.0.0.0", 41003).blocks(List.of("10.0.0.5"), 41003)).isTrue();
        assertThat(new Listener("::", 41003).blocks(List.of("10.0.0.5"), 41003)).isTrue();
    }

    @Test
    void theScriptRunHereFindsASocketThisTestListensOn() throws Exception {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            Process p = new ProcessBuilder(ListeningPorts.command("here")).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor()).as(out).isZero();
            assertThat(ListeningPorts.parse(out).get("here")).contains(new Listener("127.0.0.1", s.getLocalPort()));
        }
    }

    @Test
    void theOwnersScriptRunHereNamesThisProcessAsTheHolderOfItsSocket() throws Exception {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            Process p = new ProcessBuilder(ListeningPorts.owners(s.getLocalPort())).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor()).as(out).isZero();
            assertThat(ListeningPorts.heldBy(out)).as(out)
                    .contains("held by pid " + ProcessHandle.current().pid() + " (java)");
        }
    }

    @Test
    void ownersThatCannotBeSeenAreNamedByUidAndNothingListeningIsEmpty() {
        assertThat(ListeningPorts.heldBy("uid 1000\n")).contains("held by a process of uid 1000 that this user "
                + "cannot inspect");
        assertThat(ListeningPorts.heldBy("pid 42 redis-server\npid 42 redis-server\nuid 0\n"))
                .contains("held by pid 42 (redis-server), a process of uid 0 that this user cannot inspect");
        assertThat(ListeningPorts.heldBy("")).isEmpty();
    }

    /** ports-held.sh as a node's bash runs it, against a socket this JVM holds: the address decides. */
    @Test
    void heldScriptNamesTheHolderOfAPortOnTheShardsAddressOnly() throws Exception {
        try (java.net.ServerSocket held = new java.net.ServerSocket()) {
            held.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
            int port = held.getLocalPort();
            String script = ListeningPorts.heldScript();
            assertThat(bash(script, "1 " + port, "127.0.0.1"))
                    .isEqualTo(port + " pid " + ProcessHandle.current().pid() + " (java)\n");
            assertThat(bash(script, Integer.toString(port), "127.0.0.2")).as("another address: free").isEmpty();
            assertThat(bash(script, "1", "127.0.0.1")).as("nothing listens on port 1").isEmpty();
        }
    }

    private static String bash(String script, String ports, String address) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", script, "ports-held.sh", ports, address).start();
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes());
        assertThat(p.waitFor()).as(err).isZero();
        assertThat(err).isEmpty();
        return out;
    }

    @Test
    void theWrappersCheckRunsTheScriptWithThePortsAndFailsNamingTheHolder() {
        assertThat(ListeningPorts.wrapperCheck(List.of(6780, 16780), "addrs",
                java.nio.file.Path.of("/exp/db/ports-held.sh")))
                .contains("busy=$(/bin/bash /exp/db/ports-held.sh '6780 16780' \"${addrs[@]}\")")
                .contains("fail 4 \"port ${busy%% *} is taken on node $node (${addrs[*]}), held by ${busy#* }; ");
    }
}
