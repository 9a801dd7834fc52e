package io.smartsim.launch.ai;

import io.smartsim.launch.ai.spi.AiBackend;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

/** The backends found on the class path, by RedisAI name. Immutable once made. */
public final class Backends {
    /** The backend names RedisAI knows; anything else is "ERR unsupported backend". */
    public static final List<String> KNOWN = List.of("TF", "TFLITE", "TORCH", "ONNX");

    private final Map<String, AiBackend> byName;

    private Backends(Map<String, AiBackend> byName) {
        this.byName = Collections.unmodifiableMap(new LinkedHashMap<>(byName));
    }

    /** Every backend registered through ServiceLoader in this class loader. */
    public static Backends discover() {
        return discover(Backends.class.getClassLoader());
    }

    public static Backends discover(ClassLoader loader) {
        Map<String, AiBackend> m = new LinkedHashMap<>();
        for (AiBackend b : ServiceLoader.load(AiBackend.class, loader)) {
            m.putIfAbsent(b.name().toUpperCase(Locale.ROOT), b);
        }
        return new Backends(m);
    }

    public static Backends of(List<AiBackend> backends) {
        Map<String, AiBackend> m = new LinkedHashMap<>();
        for (AiBackend b : backends) {
            m.putIfAbsent(b.name().toUpperCase(Locale.ROOT), b);
        }
        return new Backends(m);
    }

    public Optional<AiBackend> get(String name) {
        return Optional.ofNullable(byName.get(name.toUpperCase(Locale.ROOT)));
    }

    /** Names of the loaded backends, in discovery order. */
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }
}
