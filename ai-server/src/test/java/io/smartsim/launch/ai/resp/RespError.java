package io.smartsim.launch.ai.resp;

/** A RESP error reply; {@code text} is everything after the leading '-', e.g. "ERR model key is empty". */
public record RespError(String text) {
}
