package io.smartsim.launch.ai.module;

import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code doctor}'s module check (ModuleCheck) against a real redis-server: the built module loads and MODULE LIST
 * names it; a file that is no module is refused with redis-server's own reason; the throwaway server is gone
 * afterwards (the Leftovers check: no process of the @TempDir, no port left).
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ModuleCheckIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // processes of the @TempDir, ports on every address
    @TempDir
    Path dir;

    @Test
    void theBuiltModuleLoadsAndMODULE_LISTNamesIt() throws Exception {
        Path check = Files.createDirectories(dir.resolve("check"));
        ModuleCheck.Result r = ModuleCheck.load(Path.of("redis-server"), AiModule.library(dir.resolve("lib")), check,
                Duration.ofSeconds(30));
        assertThat(r.ok()).as(r.line()).isTrue();
        assertThat(r.line()).startsWith("ok ").contains("smartsim-ai.so loads in redis-server: ")
                .containsPattern("name ai ver 1\\b");
    }

    @Test
    void aLibraryRedisCannotLoadIsRefusedWithRedissReason() throws Exception {
        Path bogus = Files.writeString(dir.resolve("smartsim-ai.so"), "not a shared object", StandardCharsets.UTF_8);
        Path check = Files.createDirectories(dir.resolve("check"));
        ModuleCheck.Result r = ModuleCheck.load(Path.of("redis-server"), bogus, check, Duration.ofSeconds(30));
        assertThat(r.ok()).isFalse();
        assertThat(r.line()).startsWith("redis-server did not load ").contains("(exit 1)")
                .contains("Module " + bogus + " failed to load");
    }

    @Test
    void aRedisServerThatIsMissingIsNamed() {
        ModuleCheck.Result r = ModuleCheck.check(dir.resolve("no-such-redis-server"), Duration.ofSeconds(5));
        assertThat(r.ok()).isFalse();
        assertThat(r.line()).startsWith("cannot run " + dir.resolve("no-such-redis-server") + ": ");
    }
}
