package io.smartsim.launch.cli;

import io.smartsim.launch.spi.LauncherFlags;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;

/**
 * Launcher options on the command line, carried into {@code OrchestratorSpec.launcherOptions} only when given:
 * {@code --launcher-option KEY=VALUE}, and the flags each launcher module contributes ({@link LauncherFlags}, a
 * picocli mixin it owns, found through {@link ServiceLoader} and added to the command by {@link #install}). The CLI
 * knows no scheduler: each launcher validates its own keys and rejects the ones it does not take, naming them.
 */
public final class SchedulerOptions {
    @Option(names = "--launcher-option", paramLabel = "KEY=VALUE", order = 49, mapFallbackValue = "",
            description = "Any other launcher option, repeatable (see the launcher's section of the README).")
    Map<String, String> other = new LinkedHashMap<>();

    /** The launcher modules' flags added to this command ({@link #install}), one object per class. */
    private final List<LauncherFlags> contributed = new ArrayList<>();

    /** The launcher options the user gave, in a stable order. */
    Map<String, String> toLauncherOptions() {
        Map<String, String> out = new LinkedHashMap<>(other);
        contributed.forEach(f -> out.putAll(f.launcherOptions()));
        return out;
    }

    /**
     * The launcher options of a batch job of its own (Slurm's and PBS's batch settings): a resume given
     * {@code --alloc} drops them from the record.
     */
    Set<String> batchKeys() {
        Set<String> keys = new TreeSet<>();
        contributed.forEach(f -> keys.addAll(f.batchKeys()));
        return keys;
    }

    /**
     * Adds every launcher module's flags to each command under {@code root} that takes launcher options (has this
     * mixin): {@code db start} and {@code db plan}, in the whole tree and in {@link StartTree}.
     */
    static void install(CommandLine root) {
        CommandSpec spec = root.getCommandSpec();
        for (CommandSpec mixin : List.copyOf(spec.mixins().values())) { // addTo adds mixins
            if (mixin.userObject() instanceof SchedulerOptions mine) {
                mine.addTo(spec);
            }
        }
        root.getSubcommands().values().forEach(SchedulerOptions::install);
    }

    private void addTo(CommandSpec command) {
        for (LauncherFlags f : load()) {
            contributed.add(f);
            command.addMixin("launcher flags " + f.getClass().getName(), CommandSpec.forAnnotatedObject(f));
        }
    }

    /** A new object of each flags class on the class path, in the order of their class names. */
    private static List<LauncherFlags> load() {
        Map<Class<?>, LauncherFlags> byClass = new HashMap<>();
        ServiceLoader.load(LauncherFlags.class, SchedulerOptions.class.getClassLoader())
                .forEach(f -> byClass.putIfAbsent(f.getClass(), f));
        List<LauncherFlags> all = new ArrayList<>(byClass.values());
        all.sort(Comparator.comparing(f -> f.getClass().getName()));
        return all;
    }

    /** The flag that sets launcher option {@code key} ({@code dialect} -> {@code --pbs-dialect}), if one does. */
    static Optional<String> flagOf(String key) {
        return Optional.ofNullable(Flags.BY_KEY.get(key));
    }

    /** Every contributed flag by its launcher-option key, read once. */
    private static final class Flags {
        static final Map<String, String> BY_KEY = byKey();

        private static Map<String, String> byKey() {
            Map<String, String> out = new HashMap<>();
            load().forEach(f -> out.putAll(f.flags()));
            return Map.copyOf(out);
        }
    }
}
