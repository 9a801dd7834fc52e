package io.smartsim.launch.ai.resp;

/** A RESP simple string reply ({@code +OK}), kept apart from bulk strings: SmartRedis reads them differently. */
public record RespSimple(String text) {
}
