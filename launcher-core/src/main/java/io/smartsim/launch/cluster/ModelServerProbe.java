package io.smartsim.launch.cluster;

import io.smartsim.launch.planned.Access;
import io.smartsim.launch.spi.LaunchedShard;
import io.smartsim.launch.spi.Launcher.Liveness;
import io.smartsim.launch.util.Parallel;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.commands.ProtocolCommand;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Whether a shard's {@code --ai} model server is there, asked through the data plane rather than the launcher: the
 * shard's redis-server loads the smartsim-ai module, which reaches its node's model server over a Unix socket
 * (opening the connection again on each model command that finds it broken). {@code AI.INFO} without a key makes the
 * module ask the model server for its backends' versions, so the shard's answer says whether the model server is
 * there now, wherever the shard runs and whatever started it (a batch job's task, a run command started on a login
 * node), with no process of the launcher needed on this machine.
 *
 * <ul>
 *   <li>{@link Liveness#ALIVE}: the module's version array ({@code Version}, ..., then one {@code <runtime> version}
 *       per loaded backend): a model server answered on the shard's socket.</li>
 *   <li>{@link Liveness#GONE}: the module's error that names the model server's socket: {@code ERR model server not
 *       connected (socket S: Connection refused)} (nothing listens there) or {@code ERR model server lost (socket S:
 *       ...)} (it closed the connection it had accepted).</li>
 *   <li>{@link Liveness#UNKNOWN}: anything else: the shard cannot be reached or logged into (the judgement is then
 *       about the shard, not its model server), it does not answer within the timeout (a hung shard, or a hung model
 *       server: the module waits for its answer), it has no module ({@code ERR unknown command}), or its module was
 *       loaded without a socket.</li>
 * </ul>
 *
 * Connections are core's control connections ({@link Connections#open}: the plan's user and TLS, through a forwarded
 * port when a transport routes the shard), one per shard, side by side; nothing here throws.
 */
public final class ModelServerProbe {
    /** How long one shard has to connect and answer: as the health check of {@code db status}. */
    public static final Duration TIMEOUT = Duration.ofSeconds(2);

    private static final ProtocolCommand AI_INFO = () -> "AI.INFO".getBytes(StandardCharsets.US_ASCII);
    /** The module's errors that name the model server's socket (smartsim_ai.c, {@code roundtrip}). */
    private static final List<String> GONE_ERRORS = List.of("model server not connected (socket ",
            "model server lost (socket ");

    private ModelServerProbe() {
    }

    /**
     * What one shard said of its model server.
     *
     * @param liveness the judgement
     * @param said     the loaded backends with their versions ({@code ONNX version 1.19.2}), the module's error, or why
     *                 the shard could not be asked
     */
    public record Answer(Liveness liveness, String said) {
    }

    /**
     * The model server of each shard, keyed by shard index: one {@code AI.INFO} per shard, all at once, each within
     * {@code timeout}, logged in with {@code access} (the plan's: {@code LaunchPlan.access()}).
     */
    public static Map<Integer, Liveness> probe(List<LaunchedShard> shards, Access access, Duration timeout) {
        List<Answer> answers = Parallel.map(shards, s -> ask(s.host(), s.port(), access, timeout));
        Map<Integer, Liveness> out = new TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            out.put(shards.get(i).index(), answers.get(i).liveness());
        }
        return out;
    }

    /** One shard's answer to {@code AI.INFO}, judged ({@link #judge(Object)}, {@link #judgeError(String)}). */
    public static Answer ask(String host, int port, Access access, Duration timeout) {
        Object reply;
        try (Jedis j = Connections.open(host, port, timeout, access)) {
            reply = j.sendCommand(AI_INFO, new String[0]);
        } catch (JedisDataException e) {
            // an error reply (NOAUTH and WRONGPASS too: their exceptions are data exceptions)
            return judgeError(String.valueOf(e.getMessage()));
        } catch (JedisException e) {
            return new Answer(Liveness.UNKNOWN, "shard " + host + ":" + port + " not asked: "
                    + HealthChecker.why(e, timeout));
        } catch (RuntimeException e) {
            return new Answer(Liveness.UNKNOWN, "shard " + host + ":" + port + " not asked: " + e);
        }
        return judge(reply);
    }

    /**
     * A reply that is not an error: ALIVE for the module's version array (its first element {@code Version}), whose
     * backend pairs become {@link Answer#said}; UNKNOWN for anything else.
     */
    static Answer judge(Object reply) {
        if (!(reply instanceof List<?> items) || items.isEmpty() || !"Version".equals(text(items.get(0)))) {
            return new Answer(Liveness.UNKNOWN, "AI.INFO answered " + describe(reply) + ", not the module's "
                    + "versions");
        }
        List<String> backends = new ArrayList<>();
        // Version, v, Low Level API Version, 1, RDB Encoding version, 1, then one label and version per backend
        for (int k = 6; k + 1 < items.size(); k += 2) {
            backends.add(text(items.get(k)) + " " + text(items.get(k + 1)));
        }
        return new Answer(Liveness.ALIVE, backends.isEmpty() ? "no backend named" : String.join(", ", backends));
    }

    /** An error reply: GONE when it is the module's error naming the model server's socket, UNKNOWN otherwise. */
    static Answer judgeError(String error) {
        String e = error.startsWith("ERR ") ? error.substring(4) : error;
        boolean gone = GONE_ERRORS.stream().anyMatch(e::startsWith);
        return new Answer(gone ? Liveness.GONE : Liveness.UNKNOWN, error);
    }

    private static String text(Object o) {
        return o instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(o);
    }

    private static String describe(Object reply) {
        if (reply instanceof List<?> items) {
            return "an array of " + items.size() + (items.isEmpty() ? "" : " starting with '" + text(items.get(0))
                    + "'");
        }
        return reply == null ? "nil" : "'" + text(reply) + "'";
    }
}
