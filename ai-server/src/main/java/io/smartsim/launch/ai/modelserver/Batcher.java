package io.smartsim.launch.ai.modelserver;

import io.smartsim.launch.ai.AiException;
import io.smartsim.launch.ai.Tensor;
import io.smartsim.launch.ai.spi.LoadedModel;
import io.smartsim.launch.ai.spi.ModelTimeoutException;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Auto-batching of one model, as RedisAI does it (AI.MODELSTORE's BATCHSIZE, MINBATCHSIZE, MINBATCHTIMEOUT): runs that
 * arrive while the model is busy wait in a queue; the batching thread takes the first and every queued run with
 * compatible inputs (the same number of inputs, each of the same type and the same dimensions after the first) while
 * their first dimensions add up to at most BATCHSIZE, concatenates each input along dimension 0, runs the model once,
 * and splits every output back along dimension 0, each run getting its own rows. With MINBATCHSIZE, it waits up to
 * MINBATCHTIMEOUT ms (0: without a bound) for that many rows before running. A run whose inputs do not batch (more rows
 * than BATCHSIZE, inputs of different first dimensions) does not come here: {@link #accepts} says so and the caller runs
 * it alone.
 */
final class Batcher implements AutoCloseable {
    /** What one queued run gets: its outputs and the run's duration, or the failure. */
    record Result(List<Tensor> outputs, long micros, AiException error, boolean timedOut) {
    }

    private static final class Request {
        final List<Tensor> inputs;
        final long rows;
        final int timeoutMs;
        final CompletableFuture<Result> done = new CompletableFuture<>();

        Request(List<Tensor> inputs, long rows, int timeoutMs) {
            this.inputs = inputs;
            this.rows = rows;
            this.timeoutMs = timeoutMs;
        }
    }

    private final LoadedModel model;
    private final int batchSize;
    private final int minBatchSize;
    private final int minBatchTimeoutMs;
    private final Deque<Request> queue = new ArrayDeque<>();
    private final Thread thread;
    private boolean closed;
    /** Model runs made here, and the requests they served: the evidence that runs were batched. */
    final AtomicLong runs = new AtomicLong();
    final AtomicLong requests = new AtomicLong();

    Batcher(String id, LoadedModel model, int batchSize, int minBatchSize, int minBatchTimeoutMs) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1");
        }
        this.model = model;
        this.batchSize = batchSize;
        this.minBatchSize = Math.min(minBatchSize, batchSize);
        this.minBatchTimeoutMs = minBatchTimeoutMs;
        thread = new Thread(this::loop, "model-server-batch-" + id);
        thread.setDaemon(true);
        thread.start();
    }

    /** The rows of a run that can be batched (every input has a first dimension, all equal, at most BATCHSIZE); or -1. */
    long accepts(List<Tensor> inputs) {
        if (inputs.isEmpty()) {
            return -1;
        }
        long rows = -1;
        for (Tensor t : inputs) {
            long[] s = t.shape();
            if (s.length == 0 || (rows >= 0 && s[0] != rows)) {
                return -1;
            }
            rows = s[0];
        }
        return rows <= batchSize ? rows : -1;
    }

    /** Queues the run and waits for its share of a batched run. */
    Result run(List<Tensor> inputs, long rows, int timeoutMs) {
        Request r = new Request(inputs, rows, timeoutMs);
        synchronized (queue) {
            if (closed) {
                return new Result(null, 0, new AiException("ERR model was replaced or deleted"), false);
            }
            queue.add(r);
            queue.notifyAll();
        }
        try {
            return r.done.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(null, 0, new AiException("ERR model server: interrupted"), false);
        } catch (ExecutionException e) {
            return new Result(null, 0, new AiException("ERR model server: " + e.getCause()), false);
        }
    }

    private static boolean compatible(Request a, Request b) {
        if (a.inputs.size() != b.inputs.size()) {
            return false;
        }
        for (int k = 0; k < a.inputs.size(); k++) {
            Tensor x = a.inputs.get(k);
            Tensor y = b.inputs.get(k);
            long[] sx = x.shape();
            long[] sy = y.shape();
            if (x.dtype() != y.dtype() || !Arrays.equals(sx, 1, sx.length, sy, 1, sy.length)) {
                return false;
            }
        }
        return true;
    }

    /** Rows of the queued runs compatible with the first, up to BATCHSIZE. Under the queue's lock. */
    private long queuedRows() {
        Request head = queue.peekFirst();
        long rows = 0;
        for (Request r : queue) {
            if (compatible(head, r) && rows + r.rows <= batchSize) {
                rows += r.rows;
            }
        }
        return rows;
    }

    private void loop() {
        while (true) {
            List<Request> batch = new ArrayList<>();
            synchronized (queue) {
                try {
                    while (queue.isEmpty() && !closed) {
                        queue.wait();
                    }
                    if (queue.isEmpty()) {
                        return; // closed and drained
                    }
                    if (minBatchSize > 0) {
                        long deadline = System.nanoTime() + minBatchTimeoutMs * 1_000_000L;
                        while (!closed && queuedRows() < minBatchSize) {
                            long left = (deadline - System.nanoTime()) / 1_000_000L;
                            if (minBatchTimeoutMs > 0 && left <= 0) {
                                break;
                            }
                            queue.wait(minBatchTimeoutMs > 0 ? Math.max(1, left) : 0);
                        }
                    }
                } catch (InterruptedException e) {
                    return;
                }
                Request head = queue.pollFirst();
                batch.add(head);
                long rows = head.rows;
                for (Iterator<Request> it = queue.iterator(); it.hasNext(); ) {
                    Request r = it.next();
                    if (compatible(head, r) && rows + r.rows <= batchSize) {
                        batch.add(r);
                        rows += r.rows;
                        it.remove();
                    }
                }
            }
            runBatch(batch);
        }
    }

    private void runBatch(List<Request> batch) {
        long total = 0;
        int timeoutMs = 0;
        for (Request r : batch) {
            total += r.rows;
            if (r.timeoutMs > 0 && (timeoutMs == 0 || r.timeoutMs < timeoutMs)) {
                timeoutMs = r.timeoutMs;
            }
        }
        long start = System.nanoTime();
        List<Tensor> outputs;
        try {
            List<Tensor> inputs = batch.size() == 1 ? batch.get(0).inputs : concatenate(batch, total);
            outputs = model.run(inputs, timeoutMs > 0 ? Duration.ofMillis(timeoutMs) : null);
        } catch (ModelTimeoutException e) {
            batch.forEach(r -> r.done.complete(new Result(null, 0, null, true)));
            return;
        } catch (AiException e) {
            batch.forEach(r -> r.done.complete(new Result(null, 0, e, false)));
            return;
        } catch (RuntimeException e) {
            AiException err = new AiException("ERR model server: " + e);
            batch.forEach(r -> r.done.complete(new Result(null, 0, err, false)));
            return;
        } finally {
            runs.incrementAndGet();
            requests.addAndGet(batch.size());
        }
        long micros = (System.nanoTime() - start) / 1000;
        if (batch.size() == 1) {
            batch.get(0).done.complete(new Result(outputs, micros, null, false));
            return;
        }
        for (int k = 0; k < outputs.size(); k++) {
            long[] s = outputs.get(k).shape();
            if (s.length == 0 || s[0] != total) {
                AiException err = new AiException("ERR model output " + k + " of a batched run has "
                        + (s.length == 0 ? "no dimension" : s[0] + " rows") + ", not the batch's " + total
                        + ": it cannot be split back (store the model without BATCHSIZE)");
                batch.forEach(r -> r.done.complete(new Result(null, 0, err, false)));
                return;
            }
        }
        long at = 0;
        for (Request r : batch) {
            List<Tensor> mine = new ArrayList<>(outputs.size());
            for (Tensor o : outputs) {
                long[] s = o.shape();
                int rowBytes = (int) (o.data().length / total);
                s[0] = r.rows;
                mine.add(new Tensor(o.dtype(), s,
                        Arrays.copyOfRange(o.data(), (int) (at * rowBytes), (int) ((at + r.rows) * rowBytes))));
            }
            at += r.rows;
            r.done.complete(new Result(mine, micros, null, false));
        }
    }

    private static List<Tensor> concatenate(List<Request> batch, long total) {
        List<Tensor> out = new ArrayList<>();
        int n = batch.get(0).inputs.size();
        for (int k = 0; k < n; k++) {
            Tensor first = batch.get(0).inputs.get(k);
            long bytes = 0;
            for (Request r : batch) {
                bytes += r.inputs.get(k).data().length;
            }
            if (bytes > Integer.MAX_VALUE - 64) {
                throw new AiException("ERR a batched input of " + bytes + " bytes is larger than 2 GiB");
            }
            byte[] data = new byte[(int) bytes];
            int at = 0;
            for (Request r : batch) {
                byte[] d = r.inputs.get(k).data();
                System.arraycopy(d, 0, data, at, d.length);
                at += d.length;
            }
            long[] s = first.shape();
            s[0] = total;
            out.add(new Tensor(first.dtype(), s, data));
        }
        return out;
    }

    /** Stops taking runs; those queued still run, then the thread ends. */
    @Override
    public void close() {
        synchronized (queue) {
            closed = true;
            queue.notifyAll();
        }
    }
}
