package io.smartsim.launch.ai.tf;

import org.tensorflow.Graph;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.io.FifoQueue;
import org.tensorflow.op.io.QueueDequeue;
import org.tensorflow.types.TFloat32;

import java.util.List;

/** Frozen GraphDefs built here with TensorFlow Java, with known weights, as a user would export them for RedisAI. */
public final class TfGraphs {
    /** W is in (3 in) x (2 out), row-major; y = x W + B. */
    public static final float[][] W = {{1, 2}, {-1, 0.5f}, {3, -2}};
    public static final float[] B = {0.25f, -1};

    private TfGraphs() {
    }

    /** Input "x" (n, 3) float, output "y" = x W + B. */
    public static byte[] linear() {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class);
            tf.withName("y").math.add(tf.linalg.matMul(x, tf.constant(W)), tf.constant(B));
            return g.toGraphDef().toByteArray();
        }
    }

    /** Inputs "a" and "b" (float, any shape), outputs "sum" = a + b and "prod" = a * b. */
    static byte[] sumAndProduct() {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> a = tf.withName("a").placeholder(TFloat32.class);
            Placeholder<TFloat32> b = tf.withName("b").placeholder(TFloat32.class);
            tf.withName("sum").math.add(a, b);
            tf.withName("prod").math.mul(a, b);
            return g.toGraphDef().toByteArray();
        }
    }

    /**
     * Input "x" (float, any shape), output "z" = x + an element taken from a FIFOQueue that nothing ever fills: a run
     * waits until TensorFlow cancels it, so it outlasts any deadline whatever the machine's speed.
     */
    static byte[] waitOnEmptyQueue() {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class);
            FifoQueue queue = tf.io.fifoQueue(List.of(TFloat32.class));
            QueueDequeue taken = tf.io.queueDequeue(queue, List.of(TFloat32.class));
            tf.withName("z").math.add(x, taken.components().get(0).expect(TFloat32.class));
            return g.toGraphDef().toByteArray();
        }
    }
}
