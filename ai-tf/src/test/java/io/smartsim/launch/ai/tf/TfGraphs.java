package io.smartsim.launch.ai.tf;

import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

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

    /** Input "x" (n, n), output "z": {@code rounds} of x = tanh(x @ x); slow for a large n. */
    static byte[] slow(int rounds) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Operand<TFloat32> h = tf.withName("x").placeholder(TFloat32.class);
            for (int i = 0; i < rounds; i++) {
                h = tf.math.tanh(tf.linalg.matMul(h, h));
            }
            tf.withName("z").identity(h);
            return g.toGraphDef().toByteArray();
        }
    }
}
