package io.smartsim.launch.testing;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The API boundary and the package layering (issue 15, point 4; docs/architecture.md, "The API boundary"), as
 * ArchUnit rules on the bytecode. launcher-core's ArchitectureTest checks the rules on core, cli's ArchitectureTest
 * the ones on the CLI and the launchers; each also shows, on fixture classes that cross the line, that its rules fail.
 */
public final class Architecture {
    public static final String ROOT = "io.smartsim.launch";
    /** The root's classes: the facade and what users hold of it. Adding one is an API change: add it here too. */
    public static final Set<String> ROOT_API = Set.of("Experiment", "Orchestrator", "Model", "Ensemble", "Entity",
            "ThisMachine");
    /**
     * The API: the root (the facade) and the packages of the values users and the parts behind the facade share:
     * specs, exceptions, plans, and the status values the facade returns.
     */
    public static final List<String> API = List.of(ROOT, ROOT + ".spec", ROOT + ".error", ROOT + ".planned",
            ROOT + ".status");
    /** The API's leaf packages, which depend on nothing else of the project but each other. */
    public static final List<String> API_LEAVES = List.of(ROOT + ".spec", ROOT + ".error", ROOT + ".planned");
    /** The API below the facade: its values. They use no internal package ({@link #apiUsesNoInternal()}). */
    public static final List<String> API_VALUES = API.subList(1, API.size());
    /**
     * The facade's supertypes, kept below it so the parts behind it need not know it: their public methods are
     * {@code Orchestrator}'s and {@code Model}'s (a method reference such as {@code db::health} names them).
     */
    public static final List<String> FACADE_SUPERTYPES = List.of(ROOT + ".experiment.OrchestratorHandle",
            ROOT + ".experiment.ModelHandle");
    /** The launcher SPI. */
    public static final String SPI = ROOT + ".spi";
    /**
     * Core's internal packages that a launcher plug-in may use besides the API and the SPI: the building blocks of a
     * launcher (batch skeleton, plans, scripts, commands and transports, readiness and cluster checks, TLS and auth
     * files, lease guards, model plans). Not the parts behind the facade ({@code experiment}), the manifest, telemetry.
     */
    public static final List<String> PLUGIN_PACKAGES = Stream.of("batch", "cluster", "colocated", "entity", "exec",
            "plan", "script", "security", "supervise", "util").map(p -> ROOT + "." + p).toList();
    /** The launcher modules' packages. */
    public static final List<String> LAUNCHERS = Stream.of("local", "slurm", "pbs", "ssh").map(p -> ROOT + "." + p)
            .toList();
    /**
     * The client applications of the API besides the CLI: each a module of its own that uses core through the API and
     * the SPI as the CLI does ({@link #appUsesApiAndSpi}), and that the CLI may call (the {@code dashboard} command
     * serves the {@code telemetry} module's {@code dashboard.Dashboard}). An application, not core: the CLI calling
     * one does not reach behind the facade.
     */
    public static final List<String> APPS = List.of(ROOT + ".dashboard");

    private Architecture() {
    }

    /** Production classes under {@code io.smartsim.launch} on the class path (no test classes, no test jars). */
    public static JavaClasses production() {
        return importer(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages(ROOT);
    }

    /** The production classes and the test classes named {@code fixtures} (classes made to cross a rule). */
    public static JavaClasses productionAnd(Class<?>... fixtures) {
        Set<String> files = new TreeSet<>();
        for (Class<?> f : fixtures) {
            files.add("/" + f.getName().replace('.', '/') + ".class");
        }
        ImportOption withFixtures = location -> ImportOption.Predefined.DO_NOT_INCLUDE_TESTS.includes(location)
                || files.stream().anyMatch(location::contains);
        return importer(withFixtures).importPackages(ROOT);
    }

    private static ClassFileImporter importer(ImportOption option) {
        // a module's test jar (core's, on the CLI's test class path) holds test classes too
        return new ClassFileImporter().withImportOption(option)
                .withImportOption(location -> !location.contains("-tests.jar"));
    }

    /** Core's packages, one slice each: the root is a slice of its own ("root"). Test support is left out. */
    public static final SliceAssignment CORE_PACKAGES = new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass c) {
            String p = c.getPackageName();
            if (p.equals(ROOT)) {
                return SliceIdentifier.of("root");
            }
            if (!p.startsWith(ROOT + ".") || p.startsWith(ROOT + ".testing")) {
                return SliceIdentifier.ignore();
            }
            String sub = p.substring(ROOT.length() + 1);
            return SliceIdentifier.of(sub.contains(".") ? sub.substring(0, sub.indexOf('.')) : sub);
        }

        @Override
        public String getDescription() {
            return "the packages of io.smartsim.launch, the root included";
        }
    };

    /** (a) No cycle among core's packages, the root included. */
    public static ArchRule coreFreeOfCycles() {
        return slices().assignedFrom(CORE_PACKAGES).should().beFreeOfCycles();
    }

    /** (b) The root holds the API only: public classes, each in {@link #ROOT_API}. */
    public static ArchRule rootHoldsOnlyApi() {
        return classes().that().resideInAPackage(ROOT).and().areTopLevelClasses()
                .should(new ArchCondition<JavaClass>("be public and one of the API classes " + new TreeSet<>(ROOT_API)) {
                    @Override
                    public void check(JavaClass c, ConditionEvents events) {
                        boolean ok = c.getModifiers().contains(com.tngtech.archunit.core.domain.JavaModifier.PUBLIC)
                                && ROOT_API.contains(c.getSimpleName());
                        events.add(new SimpleConditionEvent(c, ok, c.getName() + (ok ? " is" : " is not")
                                + " a public API class of the root; internals belong in a subpackage (the parts "
                                + "behind Experiment in io.smartsim.launch.experiment), a new API class in "
                                + "Architecture.ROOT_API and docs/architecture.md"));
                    }
                });
    }

    /**
     * The leaf API packages (specs, exceptions, plans) use nothing else of the project: users and every internal use
     * them.
     */
    public static ArchRule leafApiDependsOnNothingInternal() {
        return classes().that().resideInAnyPackage(concat(API_LEAVES))
                .should().onlyDependOnClassesThat(resideOutsideOfPackage(ROOT + "..")
                        .or(resideInAnyPackage(concat(API_LEAVES))));
    }

    /**
     * The API's values (every API package but the root) use nothing internal: only each other and the SPI (status
     * reports the SPI's {@code LaunchedShard}). What the API hands out is the class itself, with no internal behind it.
     */
    public static ArchRule apiUsesNoInternal() {
        return classes().that().resideInAnyPackage(concat(API_VALUES))
                .should().onlyDependOnClassesThat(resideOutsideOfPackage(ROOT + "..")
                        .or(resideInAnyPackage(concat(API_VALUES, List.of(SPI)))))
                .because("an API value is the value itself, not a door to an internal (docs/architecture.md, \"The "
                        + "API boundary\")");
    }

    /**
     * (c) The CLI uses the API and the SPI only (and itself, the JDK, picocli, Jackson...), and the client applications
     * of {@link #APPS}, apart from the classes of {@code allowed}: each named with why it is still needed, so any other
     * crossing fails.
     */
    public static ArchRule cliUsesApiAndSpi(Map<String, String> allowed) {
        return classes().that().resideInAPackage(ROOT + ".cli..")
                .should().onlyDependOnClassesThat(resideOutsideOfPackage(ROOT + "..")
                        .or(resideInAnyPackage(concat(API, List.of(SPI, ROOT + ".cli.."), APPS)))
                        .or(facadeSupertype()).or(named(allowed)))
                .because("the CLI is a client of the API and the SPI, and may call the client applications "
                        + APPS + " (docs/architecture.md, \"The API boundary\")");
    }

    /**
     * (f) A client application of {@link #APPS} uses the API, the SPI and its own package (and the JDK and its
     * libraries), apart from the classes of {@code allowed}: each named with why, so any other crossing fails.
     */
    public static ArchRule appUsesApiAndSpi(String app, Map<String, String> allowed) {
        return classes().that().resideInAPackage(app + "..")
                .should().onlyDependOnClassesThat(resideOutsideOfPackage(ROOT + "..")
                        .or(resideInAnyPackage(concat(API, List.of(SPI, app + "..")))).or(facadeSupertype())
                        .or(named(allowed)))
                .because("a client application uses core through the API and the SPI, as the CLI does "
                        + "(docs/architecture.md, \"The API boundary\")");
    }

    /**
     * The classes of {@code allowed} that no class of {@code pkg} (and its subpackages) uses any more: an allow-list
     * names only what is still needed (a nested class counts as its top-level class).
     */
    public static Set<String> allowedButUnused(JavaClasses classes, String pkg, Map<String, String> allowed) {
        Set<String> used = new TreeSet<>();
        classes.stream().filter(c -> c.getPackageName().equals(pkg) || c.getPackageName().startsWith(pkg + "."))
                .flatMap(c -> c.getDirectDependenciesFromSelf().stream())
                .map(d -> d.getTargetClass().getName())
                .forEach(n -> used.add(n.contains("$") ? n.substring(0, n.indexOf('$')) : n));
        Set<String> unused = new TreeSet<>(allowed.keySet());
        unused.removeAll(used);
        return unused;
    }

    /**
     * (d) A launcher uses core through the API's leaf packages (specs, exceptions, plans), the SPI and
     * {@link #PLUGIN_PACKAGES}, and its own package: not the facade, which finds launchers, nor another launcher.
     */
    public static ArchRule launcherUsesSpiAndPluginPackages(String launcher) {
        return classes().that().resideInAPackage(launcher + "..")
                .should().onlyDependOnClassesThat(resideOutsideOfPackage(ROOT + "..")
                        .or(resideInAnyPackage(concat(API_LEAVES, List.of(SPI), PLUGIN_PACKAGES, List.of(launcher + "..")))))
                .because("a launcher is a plug-in: it knows the SPI and core's building blocks, not the facade or what "
                        + "is behind it (io.smartsim.launch.experiment), the manifest or telemetry");
    }

    /** {@link #FACADE_SUPERTYPES}, and their nested types. */
    private static DescribedPredicate<JavaClass> facadeSupertype() {
        return DescribedPredicate.describe("are the facade's supertypes " + FACADE_SUPERTYPES,
                c -> FACADE_SUPERTYPES.contains(c.getName().contains("$")
                        ? c.getName().substring(0, c.getName().indexOf('$')) : c.getName()));
    }

    /** Classes named in {@code allowed} (a nested class by its top-level class's name). */
    private static DescribedPredicate<JavaClass> named(Map<String, String> allowed) {
        return DescribedPredicate.describe("temporarily allowed " + new TreeSet<>(allowed.keySet()),
                c -> allowed.containsKey(c.getName().contains("$") ? c.getName().substring(0, c.getName().indexOf('$'))
                        : c.getName()));
    }

    @SafeVarargs
    private static String[] concat(List<String>... lists) {
        return Stream.of(lists).flatMap(List::stream).toArray(String[]::new);
    }
}
