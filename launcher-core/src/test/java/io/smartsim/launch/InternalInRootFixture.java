package io.smartsim.launch;

/** A test fixture for ArchitectureTest: a class in the root that is not in the API list, which rule (b) refuses. */
public final class InternalInRootFixture {
    private InternalInRootFixture() {
    }
}
