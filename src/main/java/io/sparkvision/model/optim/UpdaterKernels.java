package io.sparkvision.model.optim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One pass of an updater over a range of parameters, in SIMD lanes (the JDK's Vector API; only loaded where the JVM
 * runs with {@code --add-modules jdk.incubator.vector}, see {@link FusedSteps#available()}): the updater's state
 * updated, the update written back over the gradient (as DL4J's updater leaves it, for listeners that read it) and
 * subtracted from the parameters. DL4J M2.1 makes two passes for this (libnd4j's {@code adam_updater},
 * {@code nesterovs_updater} or {@code sgd_updater}, then {@code params.subi(update)}); the arithmetic per value is
 * libnd4j's, in its order. Buffers are native-order bytes over float32 memory, index 0 = value 0.
 */
final class UpdaterKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder O = ByteOrder.nativeOrder();

    private UpdaterKernels() {
    }

    /**
     * Adam over values {@code [from, to)}: moments {@code m}, {@code v}.
     *
     * @param stepLr Adam's bias-corrected step, {@code lr * sqrt(1 - beta2^t) / (1 - beta1^t)}
     */
    static void adam(ByteBuffer p, ByteBuffer g, ByteBuffer m, ByteBuffer v, int from, int to,
                      float beta1, float beta2, float stepLr, float eps) {
        float c1 = 1 - beta1, c2 = 1 - beta2;
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += S.length()) {
            int at = i * Float.BYTES;
            FloatVector gi = FloatVector.fromByteBuffer(S, g, at, O);
            FloatVector mi = FloatVector.fromByteBuffer(S, m, at, O).mul(beta1).add(gi.mul(c1));
            FloatVector vi = FloatVector.fromByteBuffer(S, v, at, O).mul(beta2).add(gi.mul(gi).mul(c2));
            FloatVector u = mi.mul(stepLr).div(vi.sqrt().add(eps));
            mi.intoByteBuffer(m, at, O);
            vi.intoByteBuffer(v, at, O);
            u.intoByteBuffer(g, at, O);
            FloatVector.fromByteBuffer(S, p, at, O).sub(u).intoByteBuffer(p, at, O);
        }
        for (; i < to; i++) {
            int at = i * Float.BYTES;
            float gi = g.getFloat(at);
            float mi = beta1 * m.getFloat(at) + gi * c1;
            float vi = beta2 * v.getFloat(at) + gi * gi * c2;
            float u = (mi * stepLr) / ((float) Math.sqrt(vi) + eps);
            m.putFloat(at, mi);
            v.putFloat(at, vi);
            g.putFloat(at, u);
            p.putFloat(at, p.getFloat(at) - u);
        }
    }

    /** SGD with Nesterov momentum over values {@code [from, to)}: velocity {@code v}. */
    static void nesterovs(ByteBuffer p, ByteBuffer g, ByteBuffer v, int from, int to, float lr, float momentum) {
        float momentumT = -momentum - 1;
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += S.length()) {
            int at = i * Float.BYTES;
            FloatVector prev = FloatVector.fromByteBuffer(S, v, at, O).mul(momentum);
            FloatVector vi = prev.sub(FloatVector.fromByteBuffer(S, g, at, O).mul(lr));
            FloatVector u = prev.add(vi.mul(momentumT));
            vi.intoByteBuffer(v, at, O);
            u.intoByteBuffer(g, at, O);
            FloatVector.fromByteBuffer(S, p, at, O).sub(u).intoByteBuffer(p, at, O);
        }
        for (; i < to; i++) {
            int at = i * Float.BYTES;
            float prev = momentum * v.getFloat(at);
            float vi = prev - lr * g.getFloat(at);
            float u = prev + momentumT * vi;
            v.putFloat(at, vi);
            g.putFloat(at, u);
            p.putFloat(at, p.getFloat(at) - u);
        }
    }

    /** Plain SGD over values {@code [from, to)}. */
    static void sgd(ByteBuffer p, ByteBuffer g, int from, int to, float lr) {
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += S.length()) {
            int at = i * Float.BYTES;
            FloatVector u = FloatVector.fromByteBuffer(S, g, at, O).mul(lr);
            u.intoByteBuffer(g, at, O);
            FloatVector.fromByteBuffer(S, p, at, O).sub(u).intoByteBuffer(p, at, O);
        }
        for (; i < to; i++) {
            int at = i * Float.BYTES;
            float u = g.getFloat(at) * lr;
            g.putFloat(at, u);
            p.putFloat(at, p.getFloat(at) - u);
        }
    }
}
