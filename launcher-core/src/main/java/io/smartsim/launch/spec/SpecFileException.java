package io.smartsim.launch.spec;

import io.smartsim.launch.error.InvalidSpecException;

import java.nio.file.Path;

/**
 * A mistake in an experiment spec file, located: {@code experiment.yaml:7:15: models[0].run.nodes: ...}.
 * {@link #field()} is the field's path in the file ({@code models[0].run.nodes}).
 */
public class SpecFileException extends InvalidSpecException {
    private final Path file;
    private final int line;
    private final int column;

    public SpecFileException(Path file, int line, int column, String path, String message) {
        super(path, message);
        this.file = file;
        this.line = line;
        this.column = column;
    }

    public Path file() {
        return file;
    }

    /** 1-based line, or 0 when unknown. */
    public int line() {
        return line;
    }

    /** 1-based column, or 0 when unknown. */
    public int column() {
        return column;
    }

    /** {@code file:line:column: path: message}, as compilers write it, so editors can jump to it. */
    @Override
    public String getMessage() {
        return file + (line > 0 ? ":" + line + ":" + column : "") + ": " + super.getMessage();
    }
}
