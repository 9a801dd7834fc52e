package io.smartsim.launch.error;

/** Bad input: names the field, the value and the fix. Nothing has been started when this is thrown. */
public class InvalidSpecException extends LaunchException {
    private final String field;

    public InvalidSpecException(String field, String message) {
        super(field + ": " + message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
