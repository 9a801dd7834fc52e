package io.smartsim.launch.colocated;

import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.spec.ColocatedDb;
import io.smartsim.launch.status.ColocatedNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A colocated database on another node than this machine is judged by what that node reported into the model's
 * directory, never by a pid or an address here (which would be this machine's); and db cleanup never signals a process
 * here by another node's pid.
 */
class ColocatedStatusTest {
    private static final Instant NOW = Instant.ofEpochSecond(1_800_000_000L);
    @TempDir
    Path dir;

    /** Over a socket in the test's directory, where nothing listens: a PING from here never answers. */
    private ColocatedPlan plan() {
        return ColocatedPlanner.plan("sim", dir, ColocatedDb.unixSocket(dir.resolve("none.sock").toString(), 0700),
                Optional.empty());
    }

    private void node(String node, long pid, String report) throws Exception {
        Files.writeString(plan().pidFile(node), pid + "\n");
        if (report != null) {
            Files.writeString(plan().healthFile(node), report + "\n");
        }
    }

    @Test
    void anotherNodeIsAsItLastReportedWhileTheReportIsRecent() throws Exception {
        node("c1", 101, (NOW.getEpochSecond() - 3) + " 101 yes");
        node("c2", 102, (NOW.getEpochSecond() - 4) + " 102 no");
        node("c3", 103, (NOW.getEpochSecond() - 60) + " 103 yes"); // stale
        node("c4", 104, (NOW.getEpochSecond() - 1) + " 999 yes"); // another server's report
        node("c5", 105, null); // none yet
        List<ColocatedNode> nodes = ColocatedStatus.nodes(plan(), "login", NOW);
        assertThat(nodes).extracting(ColocatedNode::node).containsExactly("c1", "c2", "c3", "c4", "c5");
        assertThat(nodes).extracting(ColocatedNode::health)
                .containsExactly("healthy", "not answering", "unknown", "unknown", "unknown");
        assertThat(nodes.get(0).reported()).contains(Instant.ofEpochSecond(NOW.getEpochSecond() - 3));
        assertThat(nodes).allSatisfy(n -> assertThat(n.reported()).isPresent());
    }

    @Test
    void thisMachinesNodeIsCheckedHereNotByItsReport() throws Exception {
        // a report saying healthy, but no server runs here under that pid, and nothing listens on the port
        long gone = ProcessHandle.current().pid() + 1_000_000;
        node("here", gone, NOW.getEpochSecond() + " " + gone + " yes");
        ColocatedNode n = ColocatedStatus.nodes(plan(), "here", NOW).get(0);
        assertThat(n.reported()).isEmpty();
        assertThat(n.health()).isEqualTo("gone");
    }

    @Test
    void cleanupLeavesAnotherNodesDatabaseAloneAndSignalsNothingHere() throws Exception {
        // this JVM's own pid, recorded as another node's server: cleanup must not touch it (it would kill this test)
        long mine = ProcessHandle.current().pid();
        String node = "elsewhere-" + mine;
        node(node, mine, NOW.getEpochSecond() + " " + mine + " yes");
        List<String> lines = ColocatedStatus.cleanup(plan());
        assertThat(lines).singleElement().asString().startsWith("node " + node + ": left alone, it is another host")
                .contains("server pid " + mine + " there");
        assertThat(plan().pidFile(node)).exists();
        assertThat(ProcessHandle.current().isAlive()).isTrue();
    }
}
