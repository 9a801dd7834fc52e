package io.smartsim.launch.error;

/**
 * The machine that runs scheduler commands (a login node, a host over SSH) could not be reached, or the
 * connection dropped while a command ran: its outcome is unknown. This is never "job not found": what was
 * started may still run, and {@code db stop} from the manifest cleans it up once the machine is reachable.
 */
public class SchedulerUnreachableException extends LaunchException {
    public SchedulerUnreachableException(String message) {
        super(message);
    }

    public SchedulerUnreachableException(String message, Throwable cause) {
        super(message, cause);
    }
}
