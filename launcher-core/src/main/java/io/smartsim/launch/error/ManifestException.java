package io.smartsim.launch.error;

/** The experiment manifest is missing, unreadable or not one this version understands. */
public class ManifestException extends LaunchException {
    public ManifestException(String message) {
        super(message);
    }

    public ManifestException(String message, Throwable cause) {
        super(message, cause);
    }
}
