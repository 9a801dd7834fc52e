package io.smartsim.launch.ai;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -cp ... io.smartsim.launch.ai.AiServerMain --port 6780 --redis 127.0.0.1:26780 [--bind 127.0.0.1]
 * [--threads 0]}: runs one front until killed. Prints "ready <port> backends=<names>" once it accepts connections.
 */
public final class AiServerMain {
    private AiServerMain() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        String bind = "127.0.0.1";
        int port = 6780;
        String redis = null;
        int threads = 0;
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--bind" -> bind = v;
                case "--port" -> port = Integer.parseInt(v);
                case "--redis" -> redis = v;
                case "--threads" -> threads = Integer.parseInt(v);
                default -> {
                    System.err.println("unknown option " + args[i] + "; use --port P --redis host:port|unix:/path "
                            + "[--bind ADDR] [--threads N]");
                    System.exit(2);
                }
            }
            i++;
        }
        if (redis == null) {
            System.err.println("--redis host:port (or unix:/path) is required: the redis-server behind this front");
            System.exit(2);
        }
        Backends backends = Backends.discover();
        AiServer server = new AiServer(new AiServerConfig(bind, port, redis, threads, Duration.ofSeconds(5)), backends)
                .start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        System.out.println("ready " + server.port() + " backends=" + String.join(",", backends.names()));
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
