package io.smartsim.launch.client;

/** The database refused a command (its error text is the message) or could not be reached. */
public class ClientException extends RuntimeException {
    public ClientException(String message) {
        super(message);
    }

    public ClientException(String message, Throwable cause) {
        super(message, cause);
    }
}
