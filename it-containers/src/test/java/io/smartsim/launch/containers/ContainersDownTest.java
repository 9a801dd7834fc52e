package io.smartsim.launch.containers;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code testbeds/containers/down}, which {@code ./run-tests} runs after Maven, spares the containers and networks of
 * another run still going (two runs side by side), as {@link ContainerTestbed#sweep} does, and removes those of a run
 * that is gone. The script runs for real; {@code docker} is a stand-in on PATH that lists labelled containers and
 * networks and records what it is asked to remove (a real engine's containers with another live owner would need a
 * second test run at the same time).
 */
class ContainersDownTest {
    @TempDir
    Path tmp;

    @Test
    void downSparesWhatAnotherLiveRunMadeAndRemovesWhatAGoneRunLeft() throws Exception {
        Path down = Path.of(System.getProperty("smartsim.containers.testbed", "../testbeds/containers"))
                .resolve("down").toAbsolutePath().normalize();
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path log = tmp.resolve("docker.log");
        Path docker = bin.resolve("docker");
        Files.writeString(docker, """
                #!/bin/bash
                # docker, as down uses it: info, ps -a / network ls with --format "ID OWNER", rm -f, network rm.
                case "$1 $2" in
                  "info "*) exit 0 ;;
                  "ps -a") printf '%s\\n' "$FAKE_CONTAINERS" ;;
                  "network ls") printf '%s\\n' "$FAKE_NETWORKS" ;;
                  *) echo "$*" >>"$FAKE_LOG" ;;
                esac
                """, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(docker, PosixFilePermissions.fromString("rwxr-xr-x"));
        String live = ContainerTestbed.owner(ProcessHandle.current().parent().orElseThrow()); // a live process
        String gone = ProcessHandle.current().parent().orElseThrow().pid() + "@1"; // that pid, another start: gone
        ProcessBuilder pb = new ProcessBuilder("/bin/bash", down.toString()).redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().put("CONTAINERS_TESTBED_STATE", tmp.resolve("state").toString()); // no dockerd of ours
        pb.environment().put("FAKE_LOG", log.toString());
        pb.environment().put("FAKE_CONTAINERS", "c-live " + live + "\nc-gone " + gone + "\nc-unowned ");
        pb.environment().put("FAKE_NETWORKS", "n-live " + live + "\nn-gone " + gone);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(out).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(Files.readAllLines(log)).as(out).containsExactly("rm -f c-gone c-unowned", "network rm n-gone");
        assertThat(out).contains("left c-live: it belongs to a run still going (" + live + ")",
                "left n-live: it belongs to a run still going (" + live + ")");
    }
}
