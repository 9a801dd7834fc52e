package io.smartsim.launch.util;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/** Runs blocking network calls side by side on a bounded pool of daemon threads (not the common pool: it has one thread on 2 cores). */
public final class Parallel {
    private static final int MAX_THREADS = 32;

    private Parallel() {
    }

    /** {@code fn} over every item side by side; the results in the items' order. A failure is rethrown as is. */
    public static <T, R> List<R> map(List<T> items, Function<T, R> fn) {
        if (items.size() <= 1) {
            return items.stream().map(fn).toList();
        }
        try (Pool pool = new Pool(items.size())) {
            return pool.map(items, fn);
        }
    }

    /**
     * Threads kept for several rounds of calls, as a poll that asks every shard again every few milliseconds does:
     * made once, not once per round. Close it when done.
     */
    public static final class Pool implements AutoCloseable {
        private final ExecutorService threads;

        /** Up to {@code width} threads (at most 32), made as needed. */
        public Pool(int width) {
            this.threads = Executors.newFixedThreadPool(Math.max(1, Math.min(MAX_THREADS, width)), r -> {
                Thread t = new Thread(r, "smartsim-launch-io");
                t.setDaemon(true);
                return t;
            });
        }

        public <T, R> List<R> map(List<T> items, Function<T, R> fn) {
            if (items.size() <= 1) {
                return items.stream().map(fn).toList();
            }
            List<CompletableFuture<R>> futures = items.stream()
                    .map(i -> CompletableFuture.supplyAsync(() -> fn.apply(i), threads)).toList();
            return futures.stream().map(f -> {
                try {
                    return f.join();
                } catch (CompletionException e) {
                    if (e.getCause() instanceof RuntimeException re) {
                        throw re;
                    }
                    throw e;
                }
            }).toList();
        }

        @Override
        public void close() {
            threads.shutdownNow();
        }
    }
}
