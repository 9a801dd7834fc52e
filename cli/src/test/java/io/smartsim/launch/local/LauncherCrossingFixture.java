package io.smartsim.launch.local;

import io.smartsim.launch.manifest.ManifestStore;

import java.nio.file.Path;

/** A test fixture for cli's ArchitectureTest: a launcher reading the manifest, which the launcher rule refuses. */
public final class LauncherCrossingFixture {
    private LauncherCrossingFixture() {
    }

    public static Path manifest(ManifestStore store) {
        return store.file();
    }
}
