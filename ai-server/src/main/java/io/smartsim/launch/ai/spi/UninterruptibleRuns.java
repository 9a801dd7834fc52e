package io.smartsim.launch.ai.spi;

import io.smartsim.launch.ai.AiException;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs of one loaded model whose runtime cannot stop a run once started (libtorch; TensorFlow, whose own deadline is
 * only looked at after the running operations end). A run with a TIMEOUT goes to a worker thread and the caller stops
 * waiting at the deadline, as RedisAI unblocks its client with TIMEDOUT; the abandoned run finishes in the background
 * and its result is dropped. The model's native resources are freed ({@code free}) once it is closed and no run uses
 * it any more, so replacing or deleting a model never frees memory a run still reads.
 */
public final class UninterruptibleRuns implements AutoCloseable {
    /** How long the JVM's exit waits for runs still going on worker threads. */
    static final Duration EXIT_WAIT = Duration.ofSeconds(30);

    /**
     * Worker threads for runs with a TIMEOUT; idle ones end after a minute. The JVM must not exit under a run still
     * inside a native runtime: the runtime's libraries are torn down under that thread and the process dies with
     * SIGSEGV (seen with TensorFlow). So the first use adds a shutdown hook that waits up to {@link #EXIT_WAIT} for
     * the runs still going.
     */
    private static final class Workers {
        static final ExecutorService INSTANCE = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "ai-run-with-timeout");
            t.setDaemon(true);
            return t;
        });
        static final Object LOCK = new Object();
        static int going; // runs on worker threads, abandoned ones included; guarded by LOCK

        static {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> awaitWorkers(EXIT_WAIT), "ai-run-exit-wait"));
        }
    }

    /**
     * Waits until no run is going on a worker thread (abandoned runs included), up to {@code limit}. Returns whether
     * none is left.
     */
    public static boolean awaitWorkers(Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        synchronized (Workers.LOCK) {
            while (Workers.going > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(Workers.LOCK, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    private static void workerStarted() {
        synchronized (Workers.LOCK) {
            Workers.going++;
        }
    }

    private static void workerEnded() {
        synchronized (Workers.LOCK) {
            if (--Workers.going == 0) {
                Workers.LOCK.notifyAll();
            }
        }
    }

    private final Runnable free;
    private int users = 1; // the owner until close, plus one per run in progress
    private boolean closed;

    public UninterruptibleRuns(Runnable free) {
        this.free = free;
    }

    /**
     * Runs {@code body}, here when {@code timeout} is null, otherwise on a worker thread for at most {@code timeout}.
     * An {@link AiException} or {@link ModelTimeoutException} from the body is thrown as is; any other exception
     * becomes an AiException, prefixed {@code ERR}.
     */
    public <T> T call(Callable<T> body, Duration timeout) throws ModelTimeoutException {
        acquire();
        if (timeout == null) {
            try {
                return body.call();
            } catch (AiException | ModelTimeoutException e) {
                throw e;
            } catch (Exception e) {
                throw asAi(e);
            } finally {
                release();
            }
        }
        Future<T> f;
        workerStarted();
        try {
            f = Workers.INSTANCE.submit(() -> {
                try {
                    return body.call();
                } finally {
                    release();
                    workerEnded();
                }
            });
        } catch (RuntimeException e) {
            release();
            workerEnded();
            throw e;
        }
        try {
            return f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new ModelTimeoutException("run still going at its TIMEOUT of " + timeout.toMillis() + " ms; "
                    + "it goes on in the background and its result is dropped");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AiException ae) {
                throw ae;
            }
            if (e.getCause() instanceof ModelTimeoutException te) {
                throw te;
            }
            throw asAi(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AiException("ERR interrupted while waiting for the run");
        }
    }

    private static AiException asAi(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new AiException("ERR " + m.replace('\r', ' ').replace('\n', ' '), e);
    }

    private synchronized void acquire() {
        if (closed) {
            throw new AiException("ERR the model was replaced or deleted as this run started");
        }
        users++;
    }

    private void release() {
        boolean last;
        synchronized (this) {
            last = --users == 0;
        }
        if (last) {
            free.run();
        }
    }

    /** Frees now if no run is in progress, otherwise when the last one ends. Safe to call twice. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        release();
    }
}
