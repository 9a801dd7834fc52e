package io.smartsim.launch.ai;

/**
 * A command failed; the message is the exact error reply text without the leading '-', for example
 * "ERR tensor key is empty or in a different shard". Backends throw it with RedisAI's texts where RedisAI has one.
 */
public class AiException extends RuntimeException {
    public AiException(String replyText) {
        super(replyText);
    }

    public AiException(String replyText, Throwable cause) {
        super(replyText, cause);
    }
}
