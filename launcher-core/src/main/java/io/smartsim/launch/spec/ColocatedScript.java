package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;

import java.nio.file.Path;
import java.util.List;

/**
 * A TorchScript a colocated database stores before the application starts on its node (SmartSim's {@code
 * colocated_model.add_script}): {@code AI.SCRIPTSET name device SOURCE <the file's text>}, the form SmartRedis sends.
 * It needs the TORCH backend.
 *
 * @param name   the key it is stored under
 * @param device CPU, or GPU / GPU:n
 * @param file   the script's source file (relative: to the spec's base directory)
 */
public record ColocatedScript(String name, String device, Path file) {
    public ColocatedScript {
        ColocatedModel.checkName(name, "colocatedDb.scripts");
        String where = "colocatedDb.scripts (" + name + ")";
        device = ColocatedModel.device(device, where);
        if (file == null) {
            throw new InvalidSpecException(where + ".file", "no script file; give the path of the TorchScript "
                    + "source (for example functions.py)");
        }
    }

    public static ColocatedScript of(String name, String device, String file) {
        return new ColocatedScript(name, device, file == null ? null : Path.of(file));
    }

    /** The same with its file resolved against {@code base}. */
    public ColocatedScript resolvedAgainst(Path base) {
        return new ColocatedScript(name, device, base.resolve(file).normalize());
    }

    /** {@code AI.SCRIPTSET} up to {@code SOURCE}: the file's text is sent after it. */
    public List<String> command() {
        return List.of("AI.SCRIPTSET", name, device, "SOURCE");
    }
}
