package io.smartsim.launch.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.smartsim.launch.error.InvalidSpecException;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How an ensemble turns its parameter lists into members. */
public enum Strategy {
    /** Every combination (the cartesian product), the first parameter varying slowest. */
    ALL_PERM,
    /** The i-th value of every list together; all lists have the same length. */
    STEP,
    /** {@code samples} distinct combinations drawn with a seeded generator. */
    RANDOM;

    @JsonValue
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** "all_perm", "step" or "random" (any case); the error lists the allowed values. */
    @JsonCreator
    public static Strategy parse(String value) {
        for (Strategy s : values()) {
            if (s.id().equalsIgnoreCase(value == null ? "" : value.trim())) {
                return s;
            }
        }
        throw new InvalidSpecException("strategy", "unknown strategy '" + value + "'; use one of "
                + Arrays.stream(values()).map(Strategy::id).collect(Collectors.joining(", ")));
    }
}
