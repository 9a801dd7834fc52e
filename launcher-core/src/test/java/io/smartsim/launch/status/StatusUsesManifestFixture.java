package io.smartsim.launch.status;

import io.smartsim.launch.manifest.ManifestStore;

import java.nio.file.Path;

/** A test fixture for ArchitectureTest: an API value reaching an internal (the manifest), which the API rule refuses. */
public final class StatusUsesManifestFixture {
    private StatusUsesManifestFixture() {
    }

    public static Path manifest(Path expDir) {
        return new ManifestStore(expDir).file();
    }
}
