package io.smartsim.launch.spi;

import io.smartsim.launch.error.InvalidSpecException;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeSet;

/** Finds model launchers by name through {@link ServiceLoader}; each call makes new instances. */
public final class ModelLaunchers {
    private ModelLaunchers() {
    }

    public static List<ModelLauncher> available() {
        List<ModelLauncher> all = new ArrayList<>();
        ServiceLoader.load(ModelLauncher.class, ModelLaunchers.class.getClassLoader()).forEach(all::add);
        return all;
    }

    public static ModelLauncher find(String name) {
        TreeSet<String> names = new TreeSet<>();
        for (ModelLauncher l : available()) {
            if (l.name().equals(name)) {
                return l;
            }
            names.add(l.name());
        }
        throw new InvalidSpecException("launcher", "no launcher '" + name + "' that runs models; available here: "
                + (names.isEmpty() ? "none (no launcher module with model support on the class path)"
                : String.join(", ", names)));
    }
}
