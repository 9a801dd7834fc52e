package io.smartsim.launch.cli;

import picocli.CommandLine.Option;

/** {@code --json} and {@code --verbose}, shared by every command. */
public final class OutputOptions {
    @Option(names = "--json", order = 30, description = "Print JSON on stdout instead of text.")
    boolean json;

    /** Read by {@link Errors} from the parse result; declared here so every command accepts it. */
    @Option(names = "--verbose", order = 31, description = "Print the stack trace of a failure.")
    boolean verbose;
}
