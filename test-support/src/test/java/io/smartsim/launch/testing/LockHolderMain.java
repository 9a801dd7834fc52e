package io.smartsim.launch.testing;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A second test JVM for {@link TestbedLocksIT}: takes testbed locks ({@code lock DIR BED[,BED...] shared|exclusive WHO}) or
 * reserves ports ({@code ports P...}), prints {@code HOLDING} once it has them, then holds them until a line
 * {@code release} (or the end of its input) comes, prints {@code RELEASED} and exits.
 */
public final class LockHolderMain {
    private LockHolderMain() {
    }

    public static void main(String[] args) throws Exception {
        AutoCloseable held;
        if (args[0].equals("lock")) {
            List<TestbedLocks.Want> wants = new ArrayList<>();
            for (String bed : args[2].split(",")) {
                wants.add(new TestbedLocks.Want(TestbedLock.Bed.valueOf(bed), args[3].equals("shared")));
            }
            held = TestbedLocks.holdAll(Path.of(args[1]), wants, args[4], Duration.ofSeconds(60), System.out);
        } else {
            List<Integer> ports = new ArrayList<>();
            for (int i = 1; i < args.length; i++) {
                ports.add(Integer.parseInt(args[i]));
            }
            PortLocks.Taken t = PortLocks.reserve(ports);
            if (!t.ok()) {
                System.out.println("TAKEN");
                return;
            }
            held = t::giveBack;
        }
        System.out.println("HOLDING");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        for (String line; (line = in.readLine()) != null && !line.equals("release"); ) {
            // hold
        }
        held.close();
        System.out.println("RELEASED");
    }
}
