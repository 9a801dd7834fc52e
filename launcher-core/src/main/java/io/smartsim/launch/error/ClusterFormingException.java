package io.smartsim.launch.error;

/** The shards started but could not be formed into one Redis Cluster. */
public class ClusterFormingException extends LaunchException {
    public ClusterFormingException(String message) {
        super(message);
    }

    public ClusterFormingException(String message, Throwable cause) {
        super(message, cause);
    }
}
