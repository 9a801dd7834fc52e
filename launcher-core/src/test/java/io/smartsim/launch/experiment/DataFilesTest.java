package io.smartsim.launch.experiment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How checkpoint data is looked at: behind a login node, one {@code find} for every path, parsed here from the real
 * output of GNU findutils 4.9 (captured on this machine: an RDB file, a Redis 7 AOF directory, a missing file, which
 * find reports on stderr with exit code 1); on this machine, {@code java.nio}, which must agree with it.
 */
class DataFilesTest {
    private static final List<Path> ASKED = List.of(Path.of("/tmp/de/ff/db_0/dump.rdb"),
            Path.of("/tmp/de/ff/db_1/appendonlydir"), Path.of("/tmp/de/ff/db_2/dump.rdb"));
    /** find /tmp/de/ff/db_0/dump.rdb /tmp/de/ff/db_1/appendonlydir /tmp/de/ff/db_2/dump.rdb -maxdepth 1 -printf ... */
    private static final String FIND_OUTPUT = """
            0 f 1234 1795640400.2500000000 /tmp/de/ff/db_0/dump.rdb
            0 d 4096 1795655055.4150799020 /tmp/de/ff/db_1/appendonlydir
            1 f 2 1795640403.0000000000 /tmp/de/ff/db_1/appendonlydir/appendonly.aof.manifest
            1 f 100 1795640401.0000000000 /tmp/de/ff/db_1/appendonlydir/appendonly.aof.1.base.rdb
            1 f 50 1795640405.5000000000 /tmp/de/ff/db_1/appendonlydir/appendonly.aof.1.incr.aof
            """;

    @Test
    void oneFindDescribesEveryPathAndTheFilesOfADirectory() {
        assertThat(DataFiles.findArgv(ASKED)).containsExactly("find", "/tmp/de/ff/db_0/dump.rdb",
                "/tmp/de/ff/db_1/appendonlydir", "/tmp/de/ff/db_2/dump.rdb", "-maxdepth", "1", "-printf",
                "%d %y %s %T@ %p\\n");
    }

    @Test
    void aFileIsItsOwnSizeADirectoryTheSumOfItsFilesAndTheNewestOfTheirTimesAMissingPathIsAbsent() {
        Map<Path, ShardShutdown.FileFacts> facts = DataFiles.parseFind(ASKED, FIND_OUTPUT);
        assertThat(facts).containsOnlyKeys(ASKED.get(0), ASKED.get(1));
        assertThat(facts.get(ASKED.get(0))).isEqualTo(new ShardShutdown.FileFacts(1234,
                Instant.parse("2026-11-25T21:00:00.25Z")));
        // the directory's own size and time (its entries changing) do not count: only its files'
        assertThat(facts.get(ASKED.get(1))).isEqualTo(new ShardShutdown.FileFacts(152,
                Instant.parse("2026-11-25T21:00:05.5Z")));
    }

    @Test
    void anEmptyDirectoryExistsWithNoBytesAndLinesItCannotReadAreSkipped() {
        Path empty = Path.of("/scratch/exp/db/db_0/appendonlydir");
        Map<Path, ShardShutdown.FileFacts> facts = DataFiles.parseFind(List.of(empty),
                "garbage\n0 d 4096 not-a-time /elsewhere\n0 d 4096 1795655055.4150799020 " + empty + "\n");
        assertThat(facts).containsExactly(Map.entry(empty, new ShardShutdown.FileFacts(0, Instant.EPOCH)));
    }

    @Test
    void theLocalFileSystemAgreesAndCopiesOwnerOnly(@TempDir Path dir) throws Exception {
        Path aof = dir.resolve("db_1/appendonlydir");
        Files.createDirectories(aof);
        Files.write(aof.resolve("a.base.rdb"), new byte[100]);
        Files.write(aof.resolve("a.incr.aof"), new byte[50]);
        Files.setLastModifiedTime(aof.resolve("a.incr.aof"), FileTime.from(Instant.parse("2026-11-25T21:00:05.5Z")));
        Files.setLastModifiedTime(aof.resolve("a.base.rdb"), FileTime.from(Instant.parse("2026-11-25T21:00:01Z")));
        DataFiles local = DataFiles.local();
        assertThat(local.facts(List.of(aof, dir.resolve("db_2/dump.rdb")))).containsExactly(Map.entry(aof,
                new ShardShutdown.FileFacts(150, Instant.parse("2026-11-25T21:00:05.5Z"))));

        Path to = dir.resolve("db_0/appendonlydir");
        Files.createDirectories(to);
        Files.write(to.resolve("b.incr.aof"), new byte[7]); // an older run's file of another name: replaced, not kept
        local.copy(aof, to);
        assertThat(to.resolve("b.incr.aof")).doesNotExist();
        assertThat(local.facts(to)).map(ShardShutdown.FileFacts::bytes).contains(150L);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(to))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(to.resolve("a.incr.aof"))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(to.getParent()))).isEqualTo("rwx------");
        local.delete(to);
        assertThat(to).doesNotExist();
        local.delete(to); // gone already: no error
    }
}
