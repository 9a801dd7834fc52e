package io.smartsim.launch.spi;

import io.smartsim.launch.error.InvalidSpecException;
import io.smartsim.launch.spec.OrchestratorSpec;

import java.nio.file.Path;

/**
 * A launcher that can see its nodes' ports before launch and so pick free ones: what {@code --port auto}
 * ({@link OrchestratorSpec#autoPort()}) needs. Core asks through {@link #choose}; a launcher that is not one is refused
 * {@code --port auto} by name, and any spec with a fixed port passes unchanged.
 */
public interface PortChooser extends Launcher {
    /** The spec with a base port whose ports and bus ports are free on its nodes; a spec with a fixed port as it is. */
    OrchestratorSpec choosePorts(OrchestratorSpec spec);

    /**
     * As {@link #choosePorts(OrchestratorSpec)}, knowing the experiment's directory: a launcher whose nodes cannot
     * hand a command's output back may have them leave it in a file there (PBS: OpenPBS's {@code pbsdsh} returns no
     * output). Core calls this one; the default ignores the directory.
     */
    default OrchestratorSpec choosePorts(OrchestratorSpec spec, Path experimentDir) {
        return choosePorts(spec);
    }

    /** {@code spec} with its ports chosen by {@code launcher}; {@code --port auto} refused when it cannot choose. */
    static OrchestratorSpec choose(Launcher launcher, OrchestratorSpec spec, Path experimentDir) {
        if (launcher instanceof PortChooser chooser) {
            return chooser.choosePorts(spec, experimentDir);
        }
        if (spec.autoPort()) {
            throw new InvalidSpecException("port", "the " + launcher.name() + " launcher cannot pick free ports (it "
                    + "cannot see its nodes' ports before launch); give a fixed base port, for example --port "
                    + OrchestratorSpec.DEFAULT_PORT);
        }
        return spec;
    }
}
