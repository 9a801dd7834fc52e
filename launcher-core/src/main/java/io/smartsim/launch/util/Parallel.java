package io.smartsim.launch.util;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/** Runs blocking network calls side by side on a bounded pool of daemon threads (not the common pool: it has one thread on 2 cores). */
public final class Parallel {
    private static final int MAX_THREADS = 32;

    private Parallel() {
    }

    public static <T, R> List<R> map(List<T> items, Function<T, R> fn) {
        if (items.size() <= 1) {
            return items.stream().map(fn).toList();
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(MAX_THREADS, items.size()), r -> {
            Thread t = new Thread(r, "smartsim-launch-io");
            t.setDaemon(true);
            return t;
        });
        try {
            List<CompletableFuture<R>> futures = items.stream()
                    .map(i -> CompletableFuture.supplyAsync(() -> fn.apply(i), pool)).toList();
            return futures.stream().map(f -> {
                try {
                    return f.join();
                } catch (java.util.concurrent.CompletionException e) {
                    if (e.getCause() instanceof RuntimeException re) {
                        throw re;
                    }
                    throw e;
                }
            }).toList();
        } finally {
            pool.shutdownNow();
        }
    }
}
