package io.smartsim.launch.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.smartsim.launch.status.ShardSample;
import io.smartsim.launch.telemetry.Telemetry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * {@code /metrics} in the Prometheus text format, over the JDK's HTTP server: the collector's last sample per shard
 * ({@link ShardMetrics}) and the collector's own count of samples. Bound to loopback unless told otherwise, and then
 * only with a token ({@link HttpAccess}). Further pages (the dashboard) are added with {@link #route}.
 */
public final class MetricsServer implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService threads;
    private final HttpAccess access;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = new PrometheusTextFormatWriter(false);
    private volatile boolean closed;

    private MetricsServer(Telemetry telemetry, HttpAccess access, int port) throws IOException {
        this.access = access;
        Counter samples = register(registry, telemetry::latest);
        telemetry.onSample(s -> samples.labelValues(s.experiment(), s.orchestrator(),
                s.reachable() ? "ok" : "unreachable").inc());
        server = HttpServer.create(new InetSocketAddress(access.bind(), port), 16);
        threads = Executors.newCachedThreadPool(r -> { // the dashboard's event streams hold a thread each
            Thread t = new Thread(r, "telemetry-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(threads);
        route("/metrics", this::metrics);
        server.start();
    }

    /**
     * What {@code /metrics} exports, registered in {@code registry}: the last sample of each shard
     * ({@link ShardMetrics} over {@code latest}) and the collector's count of samples, returned for the caller to count
     * them.
     */
    static Counter register(PrometheusRegistry registry, Supplier<List<ShardSample>> latest) {
        registry.register(new ShardMetrics(latest));
        return Counter.builder().name("smartsim_telemetry_samples_total")
                .help("samples the collector took, by orchestrator and whether the shard answered")
                .labelNames("experiment", "orchestrator", "result").register(registry);
    }

    /** Serves {@code /metrics} of {@code telemetry} on {@code access.bind()}:{@code port} (0: any free port). */
    public static MetricsServer start(Telemetry telemetry, HttpAccess access, int port) {
        try {
            return new MetricsServer(telemetry, access, port);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + access.bind() + ":" + port + ": " + e.getMessage()
                    + "; pick another --port, or stop what listens there", e);
        }
    }

    /** Adds {@code path}, behind the same access check. */
    public void route(String path, HttpHandler handler) {
        server.createContext(path, ex -> {
            try (ex) {
                if (!access.allows(ex)) {
                    send(ex, 401, "text/plain; charset=utf-8",
                            "a token is required: Authorization: Bearer TOKEN, or ?token=TOKEN\n");
                    return;
                }
                handler.handle(ex);
            } catch (IOException | RuntimeException e) {
                // the client went away, or a handler failed: that request only
            }
        });
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Where to reach it; bound to every address (0.0.0.0, ::), this host's name. */
    public URI uri() {
        String host = access.bind();
        try {
            if (java.net.InetAddress.getByName(host).isAnyLocalAddress()) {
                host = java.net.InetAddress.getLocalHost().getHostName();
            }
        } catch (java.net.UnknownHostException e) {
            // keep the address as given
        }
        host = host.contains(":") ? "[" + host + "]" : host;
        return URI.create("http://" + host + ":" + port() + "/");
    }

    public HttpAccess access() {
        return access;
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    private void metrics(HttpExchange ex) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        writer.write(body, registry.scrape());
        send(ex, 200, PrometheusTextFormatWriter.CONTENT_TYPE, body.toByteArray());
    }

    static void send(HttpExchange ex, int code, String type, String body) throws IOException {
        send(ex, code, type, body.getBytes(StandardCharsets.UTF_8));
    }

    static void send(HttpExchange ex, int code, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream os = ex.getResponseBody()) {
                os.write(body);
            }
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.stop(0);
        threads.shutdownNow();
    }
}
