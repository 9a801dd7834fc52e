package io.smartsim.launch.containers;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Network;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The container testbed ({@code testbeds/containers}) for a test class: registered as a static extension, it skips
 * the class with the reason in the build output when the testbed is declined ({@code SKIP_CONTAINERS=1}) or cannot be
 * here (no Docker engine answers and this is not root, so {@code testbeds/containers/up} cannot start one); otherwise
 * it runs {@code up} (idempotent: starts dockerd and builds the images only when needed) and fails the class when that
 * fails. Before the class and after it, whatever the outcome, it removes every container and network labelled
 * {@link #LABEL}: Ryuk (Testcontainers' reaper) cannot run here, so a test JVM that was killed would otherwise leave
 * its hosts running.
 */
final class ContainerTestbed implements BeforeAllCallback, AfterAllCallback {
    static final String LABEL = "io.smartsim.launch.testbed";
    static final String VALUE = "containers";
    /** Which test JVM made a container or network: "pid@start-millis", so a sweep spares another live run's. */
    static final String OWNER = "io.smartsim.launch.testbed.owner";
    static final Map<String, String> LABELS = Map.of(LABEL, VALUE, OWNER, owner(ProcessHandle.current()));
    static final String SSH_HOST_IMAGE = "smartsim-testbed/sshhost:latest";
    static final String SLURM_IMAGE = "smartsim-testbed/slurm:latest";
    static final String SLURM_LOGIN_IMAGE = "smartsim-testbed/slurm-login:latest";

    /** Whether beforeAll found an engine; afterAll sweeps only then (JUnit calls it after a skipped class too). */
    private volatile boolean engine;

    @Override
    public void beforeAll(ExtensionContext ctx) {
        require();
        engine = true;
        List<String> earlier = sweep();
        if (!earlier.isEmpty()) {
            // Not this class's: a test JVM that was killed before its own cleanup (no Ryuk to do it).
            System.out.println("ContainerTestbed: removed what an earlier run left: " + earlier);
        }
    }

    @Override
    public void afterAll(ExtensionContext ctx) {
        if (!engine) {
            return; // skipped (or failed) before an engine was known to answer: nothing of the class can be there
        }
        List<String> left = sweep();
        if (!left.isEmpty()) {
            // The class's own close() should have removed them: say so, after removing them.
            throw new AssertionError(ctx.getRequiredTestClass().getSimpleName() + " left labelled containers or "
                    + "networks behind (now removed): " + left);
        }
    }

    /** Skips when declined or impossible here; runs {@code up}; fails when Docker then does not answer. */
    static void require() {
        Optional<String> skip = skip(System.getenv(), uid(), Files.isExecutable(Path.of("/usr/sbin/dockerd")));
        assumeTrue(skip.isEmpty(), skip.orElse(""));
        if (uid() == 0) {
            up();
        } else {
            assumeTrue(DockerClientFactory.instance().isDockerAvailable(), "not root (uid " + uid() + ") and no Docker "
                    + "engine answers: run testbeds/containers/up as root to start one and build the images, or set "
                    + "SKIP_CONTAINERS=1");
        }
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            throw new AssertionError("testbeds/containers/up succeeded but Testcontainers finds no Docker engine "
                    + "(DOCKER_HOST=" + System.getenv("DOCKER_HOST") + "); see " + scripts().resolve("up"));
        }
    }

    static Optional<String> skip(Map<String, String> env, int uid, boolean dockerdInstalled) {
        if ("1".equals(env.get("SKIP_CONTAINERS"))) {
            return Optional.of("SKIP_CONTAINERS=1: the container testbed was declined");
        }
        if (!dockerdInstalled && uid != 0) {
            return Optional.of("no /usr/sbin/dockerd and not root (uid " + uid + "): run testbeds/containers/up as "
                    + "root (it installs docker.io and builds the images), or set SKIP_CONTAINERS=1");
        }
        return Optional.empty();
    }

    /** A network of the testbed (labelled, so the sweep finds it), created when first used. */
    static org.testcontainers.containers.Network network() {
        return org.testcontainers.containers.Network.builder()
                .createNetworkCmdModifier(c -> c.withLabels(LABELS)).build();
    }

    /**
     * Removes every labelled container, then every labelled network, made by this JVM or by one that is gone (a run
     * that was killed); those of another test JVM still running are its own (two runs of this module at once).
     * Returns what it removed.
     */
    static List<String> sweep() {
        DockerClient docker = DockerClientFactory.instance().client();
        List<String> removed = new ArrayList<>();
        for (Container c : docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(LABEL, VALUE)).exec()) {
            if (ownerIsAnotherLiveRun(c.getLabels())) {
                continue;
            }
            docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
            removed.add("container " + String.join(",", c.getNames()) + " (" + c.getImage() + ")");
        }
        for (Network n : docker.listNetworksCmd().withFilter("label", List.of(LABEL + "=" + VALUE)).exec()) {
            if (ownerIsAnotherLiveRun(n.getLabels())) {
                continue;
            }
            docker.removeNetworkCmd(n.getId()).exec();
            removed.add("network " + n.getName());
        }
        return removed;
    }

    static String owner(ProcessHandle p) {
        return p.pid() + "@" + p.info().startInstant().map(i -> Long.toString(i.toEpochMilli())).orElse("?");
    }

    /** Made by another JVM that still runs (same pid and start time); unlabelled or gone owners are sweepable. */
    static boolean ownerIsAnotherLiveRun(Map<String, String> labels) {
        String owner = labels == null ? null : labels.get(OWNER);
        if (owner == null || owner.equals(LABELS.get(OWNER))) {
            return false;
        }
        try {
            long pid = Long.parseLong(owner.substring(0, owner.indexOf('@')));
            return ProcessHandle.of(pid).map(p -> owner(p).equals(owner)).orElse(false);
        } catch (RuntimeException e) {
            return false;
        }
    }

    static Path scripts() {
        String p = System.getProperty("smartsim.containers.testbed");
        if (p != null) {
            return Path.of(p);
        }
        Path here = Path.of("").toAbsolutePath();
        return Files.isDirectory(here.resolve("testbeds/containers")) ? here.resolve("testbeds/containers")
                : here.getParent().resolve("testbeds/containers");
    }

    private static void up() {
        Path up = scripts().resolve("up");
        try {
            Process p = new ProcessBuilder(up.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            // A cold machine installs docker.io and debootstraps the base image: about a minute here, 10 at most.
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError(up + " did not finish within 10 minutes:\n" + out);
            }
            if (p.exitValue() != 0) {
                throw new AssertionError(up + " failed (exit " + p.exitValue() + "; SKIP_CONTAINERS=1 skips the "
                        + "container tests):\n" + out);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + up + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + up, e);
        }
    }

    static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalStateException("cannot tell this process's uid: " + e.getMessage(), e);
        }
    }
}
