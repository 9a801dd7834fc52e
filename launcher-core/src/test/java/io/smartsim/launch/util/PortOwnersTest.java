package io.smartsim.launch.util;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PortOwnersTest {
    /** Captured from a Debian host: a listener on 6780 (0x1A7C), a connection from it, a TIME_WAIT, another port. */
    private static final List<String> TCP = List.of(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
            "   0: 0100007F:1A7C 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 28763 1 "
                    + "000000003131574c 100 0 0 10 0",
            "   1: 0100007F:1A7C 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000  1000        0 28790 1 "
                    + "00000000aa45554e 20 4 30 10 -1",
            "   2: 0100007F:1A7C 0100007F:D2F2 06 00000000:00000000 03:00000F9E 00000000     0        0 0 3 "
                    + "0000000000000000",
            "   3: 00000000:1AA1 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 36700 1 "
                    + "00000000aa45554e 100 0 0 10 0");

    @Test
    void theTableGivesEachSocketOfThePortWithItsInodeAndUidButNotTimeWait() {
        assertThat(PortOwners.parse(TCP, 6780)).containsExactly(new PortOwners.Socket(28763, 1000, true),
                new PortOwners.Socket(28790, 1000, false));
        assertThat(PortOwners.parse(TCP, 6817)).containsExactly(new PortOwners.Socket(36700, 0, true));
        assertThat(PortOwners.parse(TCP, 1)).isEmpty();
    }

    @Test
    void aListenerOfThisJvmIsFoundByPidAndCommand() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "needs Linux /proc");
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            List<PortOwners.Owner> owners = PortOwners.system().owners(s.getLocalPort());
            assertThat(owners).isNotEmpty();
            assertThat(owners.get(0).pid()).contains(ProcessHandle.current().pid());
            assertThat(owners.get(0).command()).contains("java");
            assertThat(owners.get(0).listening()).isTrue();
            assertThat(PortOwners.heldBy(s.getLocalPort())).contains("held by pid " + ProcessHandle.current().pid()
                    + " (java)");
        }
    }
}
