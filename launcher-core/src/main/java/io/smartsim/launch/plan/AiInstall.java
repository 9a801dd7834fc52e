package io.smartsim.launch.plan;

import io.smartsim.launch.error.InvalidSpecException;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Where this machine's model serving comes from ({@code --ai}): the java that runs the model server, its class path
 * (the {@code ai-server} jar, one jar per backend module and their runtimes), and the backends found there. The launcher
 * jar stays small; the build lays these jars out in {@code ai-dist/target/ai/}, and an installation puts that
 * directory beside the launcher jar as {@code ai/}. An environment fact, found once by {@link #locate()} and handed to
 * the pure {@link Planner}.
 *
 * @param java      the java executable the model servers run with
 * @param classPath the model servers' class path: {@code DIR/*} for a directory of jars, else the path list as given
 * @param from      where it was found and why (which setting or location), for messages and {@code doctor}
 * @param backends  the backends on that class path, by RedisAI name (ONNX, TORCH, ...), in discovery order
 * @param module    the smartsim-ai Redis module ({@value #MODULE_FILE}) as a file there, for {@code loadmodule}: the
 *                  build lays it out in the AI directory beside the jars; empty when it is not there
 */
public record AiInstall(String java, String classPath, String from, List<String> backends, Optional<Path> module) {
    /** The module's file name, as ai-module builds it and ai-dist lays it out. */
    public static final String MODULE_FILE = "smartsim-ai.so";
    /** Where ai-module's jar and classes directory hold it. */
    private static final String MODULE_RESOURCE = "io/smartsim/launch/ai/module/" + MODULE_FILE;

    /** System property naming the AI directory or class path; wins over the environment (for embedding and tests). */
    public static final String PROPERTY = "smartsim.ai.path";
    /** Environment variable naming the AI directory (of jars) or a class path. */
    public static final String ENV = "SMARTSIM_AI_PATH";
    private static final String SPI = "io.smartsim.launch.ai.spi.AiBackend";

    public AiInstall {
        backends = List.copyOf(backends);
        module = module == null ? Optional.empty() : module;
    }

    /** An install whose module file is not known (a plan from it is refused by {@link #requireModule}). */
    public AiInstall(String java, String classPath, String from, List<String> backends) {
        this(java, classPath, from, backends, Optional.empty());
    }

    /**
     * The module file, else an error naming where it was looked for and how to get it: what a launcher that loads the
     * module into its shards needs at plan time.
     */
    public Path requireModule() {
        return module.orElseThrow(() -> new InvalidSpecException("ai", "the model-serving runtime from " + from
                + " has no " + MODULE_FILE + " (the smartsim-ai Redis module the shards load under --ai); build it "
                + "with a C compiler (apt-get install gcc; then mvn -DskipTests package lays it out in "
                + "ai-dist/target/ai), or put the file beside the jars there"));
    }

    /** The install found from this JVM's settings and the launcher jar's location. */
    public static AiInstall locate() {
        return locate(Optional.ofNullable(System.getProperty(PROPERTY)), Optional.ofNullable(System.getenv(ENV)),
                codeDir(), Path.of(System.getProperty("java.home"), "bin", "java").toString(), AiInstall::backendsIn);
    }

    /**
     * As {@link #locate()} from explicit facts: the property and environment values, the directory holding the
     * launcher's code, the java to use, and how to list the backends of a set of jars.
     */
    static AiInstall locate(Optional<String> property, Optional<String> env, Optional<Path> codeDir, String java,
                            Function<List<Path>, List<String>> lister) {
        for (var explicit : List.of(property.map(v -> new String[] {"-D" + PROPERTY, v}),
                env.map(v -> new String[] {ENV, v}))) {
            if (explicit.isPresent() && !explicit.get()[1].isBlank()) {
                String name = explicit.get()[0];
                String value = explicit.get()[1];
                List<Path> jars = jars(value);
                if (jars.isEmpty()) {
                    throw new InvalidSpecException("ai", name + "=" + value + " holds no jar; point it at the AI "
                            + "directory the build makes (ai-dist/target/ai) or a class path of the ai-server and "
                            + "backend jars");
                }
                return new AiInstall(java, classPath(value), name + "=" + value, lister.apply(jars), moduleIn(value));
            }
        }
        List<Path> candidates = new ArrayList<>();
        codeDir.ifPresent(d -> {
            candidates.add(d.resolve("ai"));
            candidates.add(d.resolve("../../ai-dist/target/ai").normalize());
        });
        for (Path c : candidates) {
            List<Path> jars = jars(c.toString());
            if (!jars.isEmpty()) {
                return new AiInstall(java, classPath(c.toString()), c.toString(), lister.apply(jars),
                        moduleIn(c.toString()));
            }
        }
        throw new InvalidSpecException("ai", "no model-serving runtime on this machine: " + ENV + " is unset and "
                + (candidates.isEmpty() ? "the launcher's location is unknown"
                : "there are no jars in " + String.join(" or ", candidates.stream().map(Path::toString).toList()))
                + "; build it (mvn -DskipTests package builds ai-dist/target/ai) or set " + ENV
                + " to a directory of the ai-server and backend jars");
    }

    /** The backend named {@code name} is here, else an error naming what is. */
    public void require(List<String> names) {
        List<String> missing = names.stream().map(n -> n.toUpperCase(Locale.ROOT))
                .filter(n -> !backends.contains(n)).toList();
        if (!missing.isEmpty()) {
            throw new InvalidSpecException("ai.backends", String.join(", ", missing) + (missing.size() == 1 ? " is"
                    : " are") + " not installed: the model-serving runtime from " + from + " has "
                    + (backends.isEmpty() ? "no backend" : String.join(", ", backends)) + "; choose from those, or "
                    + "add the backend's module jars (ai-" + missing.get(0).toLowerCase(Locale.ROOT) + " and its "
                    + "runtime) there");
        }
    }

    /** The jars a directory or a path list names. */
    static List<Path> jars(String value) {
        List<Path> out = new ArrayList<>();
        for (String entry : value.split(File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            String e = entry.endsWith("/*") ? entry.substring(0, entry.length() - 2) : entry;
            Path p = Path.of(e);
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    s.filter(f -> f.getFileName().toString().endsWith(".jar")).sorted().forEach(out::add);
                } catch (IOException ignored) {
                    // unreadable: holds no jar we can use
                }
            } else if (Files.isRegularFile(p)) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * The module file a directory or path list holds: {@value #MODULE_FILE} in a directory named (or {@code DIR/*}),
     * beside a jar named, or in a classes directory named (ai-module's {@code target/classes}); the first found.
     */
    static Optional<Path> moduleIn(String value) {
        for (String entry : value.split(File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            String e = entry.endsWith("/*") ? entry.substring(0, entry.length() - 2) : entry;
            Path p = Path.of(e).toAbsolutePath().normalize();
            Path dir = Files.isDirectory(p) ? p : p.getParent();
            if (dir == null) {
                continue;
            }
            for (Path candidate : List.of(dir.resolve(MODULE_FILE), dir.resolve(MODULE_RESOURCE))) {
                if (Files.isRegularFile(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    /** A directory becomes {@code DIR/*} (java expands it); a path list is used as given. */
    static String classPath(String value) {
        Path p = Path.of(value);
        return !value.contains(File.pathSeparator) && Files.isDirectory(p) ? p.toAbsolutePath().normalize() + "/*"
                : value;
    }

    /** The directory holding the launcher's code: the jar's directory, or a classes directory's parent. */
    static Optional<Path> codeDir() {
        try {
            var src = AiInstall.class.getProtectionDomain().getCodeSource();
            if (src == null) {
                return Optional.empty();
            }
            Path p = Path.of(src.getLocation().toURI());
            return Optional.ofNullable(p.getParent());
        } catch (URISyntaxException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * The backend names registered in {@code jars}, read by loading the backend classes in a throw-away class loader
     * and asking each its name (their constructors load no native code), without running any model runtime.
     */
    static List<String> backendsIn(List<Path> jars) {
        List<URL> urls = new ArrayList<>();
        for (Path j : jars) {
            try {
                urls.add(j.toUri().toURL());
            } catch (MalformedURLException e) {
                throw new IllegalStateException(e);
            }
        }
        try (URLClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            Class<?> spi = Class.forName(SPI, false, loader);
            Method name = spi.getMethod("name");
            List<String> names = new ArrayList<>();
            for (Object b : ServiceLoader.load(spi, loader)) {
                String n = ((String) name.invoke(b)).toUpperCase(Locale.ROOT);
                if (!names.contains(n)) {
                    names.add(n);
                }
            }
            return names;
        } catch (ClassNotFoundException e) {
            throw new InvalidSpecException("ai", "the model-serving jars " + jars + " hold no ai-server (" + SPI
                    + " is missing); point " + ENV + " at the AI directory the build makes (ai-dist/target/ai)");
        } catch (ReflectiveOperationException | IOException | java.util.ServiceConfigurationError e) {
            throw new InvalidSpecException("ai", "cannot read the backends in " + jars + ": " + e);
        }
    }
}
