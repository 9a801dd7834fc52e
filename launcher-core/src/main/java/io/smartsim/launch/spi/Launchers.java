package io.smartsim.launch.spi;

import io.smartsim.launch.error.InvalidSpecException;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeSet;

/** Finds launchers by name through {@link ServiceLoader}. */
public final class Launchers {
    private Launchers() {
    }

    public static List<Launcher> available() {
        List<Launcher> all = new ArrayList<>();
        ServiceLoader.load(Launcher.class, Launchers.class.getClassLoader()).forEach(all::add);
        return all;
    }

    /** The launcher called {@code name}, working in {@code context} ({@link Launcher#in}). */
    public static Launcher find(String name, LauncherContext context) {
        return find(name).in(context);
    }

    /** The launcher called {@code name}, working in this process's context ({@link LauncherContext#process()}). */
    public static Launcher find(String name) {
        TreeSet<String> names = new TreeSet<>();
        for (Launcher l : available()) {
            if (l.name().equals(name)) {
                return l;
            }
            names.add(l.name());
        }
        throw new InvalidSpecException("launcher", "unknown launcher '" + name + "'; available here: "
                + (names.isEmpty() ? "none (no launcher module on the class path)" : String.join(", ", names)));
    }
}
