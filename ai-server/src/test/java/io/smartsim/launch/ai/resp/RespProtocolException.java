package io.smartsim.launch.ai.resp;

/** The peer sent bytes that are not RESP; the connection is closed after a "-ERR Protocol error" reply. */
public final class RespProtocolException extends RuntimeException {
    public RespProtocolException(String message) {
        super(message);
    }
}
