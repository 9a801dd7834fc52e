package io.smartsim.launch.dashboard;

import io.smartsim.launch.planned.ColocatedPlan;
import io.smartsim.launch.spi.EntityStatus;
import io.smartsim.launch.planned.ModelPlan;
import io.smartsim.launch.entity.ModelPlanner;
import io.smartsim.launch.manifest.Manifest;
import io.smartsim.launch.manifest.ModelRecord;
import io.smartsim.launch.spec.ColocatedDb;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.spi.LaunchedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code /api/log}'s answers for models and their colocated databases, from a manifest and the files as the launcher
 * and the colocated wrapper write them (written here by hand); the shards' cases, with a real orchestrator, and the
 * HTTP side: {@code DashboardIT}.
 */
@Timeout(30)
class DashboardLogTest {
    @TempDir
    Path dir;

    Manifest manifest(ModelPlan... plans) {
        Manifest m = Manifest.empty("log-test");
        for (ModelPlan p : plans) {
            m = m.withModel(new ModelRecord(p, new LaunchedModel(p.name(), "local", "1", Optional.empty(),
                    Instant.now(), Map.of()), EntityStatus.RUNNING, Optional.empty(), Optional.empty(), Instant.now()));
        }
        return m;
    }

    Dashboard.LogAnswer ask(Manifest m, String query) {
        return Dashboard.logAnswer(Optional.ofNullable(m), dir, URI.create("http://x/api/log" + query));
    }

    static void assertError(Dashboard.LogAnswer a, int status, String parameter, String... says) {
        assertThat(a.status()).as("%s", a).isEqualTo(status);
        assertThat(a.body()).as("%s", a).containsOnlyKeys("error", "parameter").containsEntry("parameter", parameter);
        assertThat((String) a.body().get("error")).as("%s", a).contains(says);
    }

    @Test
    void aColocatedNodeWithOnlyItsPidFileIsKnownAndItsLogNotWrittenYetOneWithNoFileIsNot() throws Exception {
        ModelPlan sim = ModelPlanner.plan(dir, ModelSpec.builder("sim", "/bin/sim")
                .colocatedDb(ColocatedDb.tcp(6780)).build());
        ColocatedPlan c = sim.colocated().orElseThrow();
        Files.createDirectories(c.dir());
        Files.writeString(c.pidFile("n1"), "4242\n"); // started: the server has not opened its log yet
        Files.writeString(c.log("n2"), "4343:M 06 Dec 2026 10:00:00.000 * Ready to accept connections tcp\n");
        Manifest m = manifest(sim);

        Dashboard.LogAnswer n1 = ask(m, "?model=sim&colocated=n1");
        assertThat(n1.status()).isEqualTo(200);
        assertThat(n1.body()).containsEntry("model", "sim").containsEntry("colocated", "n1")
                .containsEntry("file", c.log("n1").toString()).containsEntry("exists", false)
                .containsEntry("lines", List.of());
        Dashboard.LogAnswer n2 = ask(m, "?model=sim&colocated=n2");
        assertThat(n2.status()).isEqualTo(200);
        assertThat(n2.body()).containsEntry("exists", true).containsEntry("lines",
                List.of("4343:M 06 Dec 2026 10:00:00.000 * Ready to accept connections tcp"));
        assertError(ask(m, "?model=sim&colocated=n3"), 404, "colocated",
                "model 'sim' has no colocated database on node 'n3'; known: n1, n2");
        // the model's own output, not written yet
        Dashboard.LogAnswer out = ask(m, "?model=sim");
        assertThat(out.status()).isEqualTo(200);
        assertThat(out.body()).containsEntry("file", sim.stdout().toString()).containsEntry("exists", false)
                .containsEntry("lines", List.of());
    }

    @Test
    void unknownModelsAndNodesAre404AndBadParameters400EachNamed() {
        ModelPlan plain = ModelPlanner.plan(dir, ModelSpec.builder("plain", "/bin/sim").build());
        Manifest m = manifest(plain);
        assertError(ask(m, "?model=nope"), 404, "model", "no model 'nope' in this experiment; known: plain");
        assertError(ask(manifest(), "?model=nope"), 404, "model", "no model 'nope'", "there is none yet");
        assertError(ask(m, "?model=plain&colocated=n1"), 404, "colocated", "model 'plain' has no colocated database");
        assertError(ask(null, "?model=plain"), 404, null, "no manifest in " + dir);

        assertError(ask(m, ""), 400, null, "which log?", Dashboard.LOG_USAGE);
        assertError(ask(m, "?"), 400, null, "which log?");
        assertError(ask(m, "?shard=1"), 400, "orchestrator", "shard=1 needs orchestrator=ID");
        assertError(ask(m, "?orchestrator=db"), 400, "shard", "orchestrator=db needs shard=N");
        assertError(ask(m, "?orchestrator=db&shard=-1"), 400, "shard", "shard '-1' is not a shard index");
        assertError(ask(m, "?orchestrator=db&shard=1234567"), 400, "shard", "is not a shard index");
        assertError(ask(m, "?colocated=n1"), 400, "model", "colocated=n1 needs model=NAME");
        assertError(ask(m, "?model=plain&colocated=a/b"), 400, "colocated", "'a/b' is not a node name");
        assertError(ask(m, "?model=plain&colocated=.hidden"), 400, "colocated", "is not a node name");
        assertError(ask(m, "?model=plain&shard=1"), 400, "shard", "one at a time");
        assertError(ask(m, "?model="), 400, "model", "parameter 'model' is empty");
        assertError(ask(m, "?model=plain&path=/etc/passwd"), 400, "path", "unknown parameter 'path'");
        assertError(ask(m, "?model=plain&model=plain"), 400, "model", "given twice");
        // the access token travels beside them and is no error
        assertThat(ask(m, "?model=plain&token=abc").status()).isEqualTo(200);
    }
}
