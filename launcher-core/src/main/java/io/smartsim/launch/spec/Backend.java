package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The database server the shards run. */
public enum Backend {
    REDIS("redis-server", "apt-get install redis-server (Debian/Ubuntu), or pass the path with --server-binary"),
    KEYDB("keydb-server", "KeyDB is not packaged by Debian: build it from https://docs.keydb.dev or install its "
            + "release package, then put keydb-server on PATH or pass the path with --server-binary");

    private final String binaryName;
    private final String installHint;

    Backend(String binaryName, String installHint) {
        this.binaryName = binaryName;
        this.installHint = installHint;
    }

    /** The server executable looked up on PATH when no explicit path is given. */
    public String binaryName() {
        return binaryName;
    }

    /** How a user gets the binary when it is missing. */
    public String installHint() {
        return installHint;
    }

    @JsonValue
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses "redis" or "keydb" (any case); the error lists the allowed values. */
    @JsonCreator
    public static Backend parse(String value) {
        for (Backend b : values()) {
            if (b.id().equalsIgnoreCase(value == null ? "" : value.trim())) {
                return b;
            }
        }
        throw new InvalidSpecException("backend", "unknown backend '" + value + "'; use one of "
                + Arrays.stream(values()).map(Backend::id).collect(Collectors.joining(", ")));
    }
}
