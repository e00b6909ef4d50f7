package io.sparkvision.model.optim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One pass of Adam over a range of parameters, in SIMD lanes (the JDK's Vector API; only loaded where the JVM runs
 * with {@code --add-modules jdk.incubator.vector}, see {@link FusedSteps#available()}): the moments updated, the
 * update written back over the gradient (as DL4J's updater leaves it, for listeners that read it) and subtracted from
 * the parameters. DL4J M2.1 makes two passes for this (libnd4j's {@code adam_updater}, then {@code
 * params.subi(update)}); the arithmetic per value is libnd4j's, in its order.
 */
final class AdamKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder O = ByteOrder.nativeOrder();

    private AdamKernel() {
    }

    /**
     * Values {@code [from, to)} of the four arrays (byte buffers over float32 memory, index 0 = value 0).
     *
     * @param stepLr  Adam's bias-corrected step, {@code lr * sqrt(1 - beta2^t) / (1 - beta1^t)}
     */
    static void apply(ByteBuffer p, ByteBuffer g, ByteBuffer m, ByteBuffer v, int from, int to,
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
}
