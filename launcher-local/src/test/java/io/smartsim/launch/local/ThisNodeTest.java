package io.smartsim.launch.local;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/** The node the local launchers record for their shards and models: this host's short name. */
class ThisNodeTest {

    @Test
    void aHostNameIsCutAtItsFirstDot() {
        assertThat(ThisNode.shortName("login1.cluster.example.org")).isEqualTo("login1");
        assertThat(ThisNode.shortName("login1")).isEqualTo("login1");
        assertThat(ThisNode.shortName(".hidden")).as("nothing before the dot: kept whole").isEqualTo(".hidden");
    }

    /**
     * The name both local launchers record is the one {@code hostname -s} prints (and the colocated wrapper names its
     * files with), and the shards' and the models' are one: before, a local shard recorded the plan's node index
     * ("0").
     */
    @Test
    @Timeout(30)
    void itIsWhatHostnameMinusSPrintsForShardsAndModelsAlike() {
        String host = ColocatedIT.hostname();
        assertThat(host).isNotBlank();
        assertThat(ThisNode.name()).isEqualTo(host);
        assertThat(LocalModelLauncher.node()).isEqualTo(ThisNode.name());
        assertThat(ThisNode.name()).isNotEqualTo("0");
    }
}
