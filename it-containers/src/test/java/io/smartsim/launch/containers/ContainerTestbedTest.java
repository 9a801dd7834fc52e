package io.smartsim.launch.containers;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** When the container tests skip, and with which reason (the decision only: no Docker needed). */
class ContainerTestbedTest {
    @Test
    void declinedSkipsWhateverElseIsTrue() {
        assertThat(ContainerTestbed.skip(Map.of("SKIP_CONTAINERS", "1"), 0, true))
                .contains("SKIP_CONTAINERS=1: the container testbed was declined");
    }

    @Test
    void withoutAnEngineAndWithoutRootItSkipsNamingTheFix() {
        assertThat(ContainerTestbed.skip(Map.of(), 1000, false)).hasValueSatisfying(r -> assertThat(r)
                .contains("no /usr/sbin/dockerd and not root (uid 1000)", "testbeds/containers/up",
                        "SKIP_CONTAINERS=1"));
    }

    @Test
    void theSweepSparesOnlyWhatAnotherLiveJvmMade() {
        assertThat(ContainerTestbed.ownerIsAnotherLiveRun(Map.of())).as("no owner: an old run's").isFalse();
        assertThat(ContainerTestbed.ownerIsAnotherLiveRun(Map.of(ContainerTestbed.OWNER,
                ContainerTestbed.owner(ProcessHandle.current())))).as("this JVM's").isFalse();
        ProcessHandle parent = ProcessHandle.current().parent().orElseThrow();
        assertThat(ContainerTestbed.ownerIsAnotherLiveRun(Map.of(ContainerTestbed.OWNER,
                ContainerTestbed.owner(parent)))).as("a live process's (this JVM's parent)").isTrue();
        assertThat(ContainerTestbed.ownerIsAnotherLiveRun(Map.of(ContainerTestbed.OWNER,
                parent.pid() + "@1"))).as("the same pid started at another time: reused, so gone").isFalse();
        assertThat(ContainerTestbed.ownerIsAnotherLiveRun(Map.of(ContainerTestbed.OWNER, "garbage"))).isFalse();
    }

    @Test
    void asRootOrWithAnEngineInstalledItRuns() {
        // Root: the tests run testbeds/containers/up, which installs what is missing (and fail if that fails).
        assertThat(ContainerTestbed.skip(Map.of(), 0, false)).isEmpty();
        assertThat(ContainerTestbed.skip(Map.of("SKIP_CONTAINERS", "0"), 1000, true)).isEmpty();
    }
}
