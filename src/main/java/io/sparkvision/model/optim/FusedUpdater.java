package io.sparkvision.model.optim;

import org.bytedeco.javacpp.BytePointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.NesterovsUpdater;
import org.nd4j.linalg.learning.SgdUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * DL4J's Adam, Nesterov or SGD updater for one updater block, with the parameter step folded in: one pass over the
 * block's parameters, gradient and state ({@link UpdaterKernels}) instead of DL4J's two (libnd4j's updater op, then
 * the step function's subtraction, which {@link FusedSteps.Step} leaves out for this block). The state is DL4J's own
 * state views (Adam: M, the first half of the block's updater state, then V; Nesterov: V), so {@code
 * updaterState.bin}, checkpoints and parameter averaging see the layout they always did. Where the step cannot be
 * folded in - an external gradient, or gradient sharing's accumulator - it calls DL4J's updater.
 */
final class FusedUpdater<C extends IUpdater> implements GradientUpdater<C> {
    private final GradientUpdater<C> dl4j;
    private final FusedSteps.Step step;
    private final INDArray params, gradient;
    private ByteBuffer[] buffers;
    private long[] addresses;

    private FusedUpdater(GradientUpdater<C> dl4j, FusedSteps.Step step, INDArray params, INDArray gradient) {
        this.dl4j = dl4j;
        this.step = step;
        this.params = params;
        this.gradient = gradient;
    }

    /** A fused updater in place of {@code dl4j}, or null for an updater it does not fuse. */
    static FusedUpdater<?> of(GradientUpdater<?> dl4j, FusedSteps.Step step, INDArray params, INDArray gradient) {
        Class<?> c = dl4j.getClass();
        if (c != AdamUpdater.class && c != NesterovsUpdater.class && c != SgdUpdater.class) return null;
        return new FusedUpdater<>(dl4j, step, params, gradient);
    }

    GradientUpdater<C> dl4j() {
        return dl4j;
    }

    @Override
    public C getConfig() {
        return dl4j.getConfig();
    }

    @Override
    public void setState(Map<String, INDArray> state, boolean initialize) {
        dl4j.setState(state, initialize);
    }

    @Override
    public Map<String, INDArray> getState() {
        return dl4j.getState();
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        dl4j.setStateViewArray(viewArray, gradientShape, gradientOrder, initialize);
    }

    @Override
    public void applyUpdater(INDArray grad, int iteration, int epoch) {
        if (address(grad) != address(gradient) || grad.length() != gradient.length() || !step.direct()) {
            // another network's gradient (DL4J's external case), or gradient sharing, whose accumulator applies the
            // update: DL4J's updater, and DL4J's step applies it
            dl4j.applyUpdater(grad, iteration, epoch);
            return;
        }
        ByteBuffer[] b = buffers();
        ByteBuffer p = b[0], g = b[1];
        int n = (int) gradient.length();
        Kernel kernel;
        if (dl4j instanceof AdamUpdater adam) {
            Adam c = adam.getConfig();
            // libnd4j's adam_updater's constants, in float as it computes them
            float beta1 = (float) c.getBeta1(), beta2 = (float) c.getBeta2(), lr = (float) c.getLearningRate(iteration, epoch);
            float eps = (float) c.getEpsilon() == 0f ? 1e-7f : (float) c.getEpsilon();
            float beta1T = (float) Math.pow(beta1, iteration + 1), beta2T = (float) Math.pow(beta2, iteration + 1);
            float stepLr = (float) (lr * (float) Math.sqrt(1.0 - beta2T) / (1.0 - beta1T));
            if (Float.isNaN(stepLr) || Float.isInfinite(stepLr) || stepLr == 0f) stepLr = eps;
            float s = stepLr, e = eps;
            kernel = (from, to) -> UpdaterKernels.adam(p, g, b[2], b[3], from, to, beta1, beta2, s, e);
        } else if (dl4j instanceof NesterovsUpdater nesterovs) {
            Nesterovs c = nesterovs.getConfig();
            float lr = (float) c.getLearningRate(iteration, epoch), momentum = (float) c.currentMomentum(iteration, epoch);
            kernel = (from, to) -> UpdaterKernels.nesterovs(p, g, b[2], from, to, lr, momentum);
        } else {
            float lr = (float) dl4j.getConfig().getLearningRate(iteration, epoch);
            kernel = (from, to) -> UpdaterKernels.sgd(p, g, from, to, lr);
        }
        int chunks = (int) Math.max(1, Math.min(Nd4j.getEnvironment().maxThreads(), n / (1 << 16)));
        if (chunks == 1) kernel.run(0, n);
        else IntStream.range(0, chunks).parallel().forEach(t -> kernel.run((int) ((long) n * t / chunks), (int) ((long) n * (t + 1) / chunks)));
        step.applied();
    }

    private interface Kernel {
        void run(int from, int to);
    }

    /** Parameters, gradient, then the state arrays, as byte views; made again only when an array moved. */
    private ByteBuffer[] buffers() {
        INDArray[] arrays = dl4j instanceof AdamUpdater a ? new INDArray[] {params, gradient, a.getM(), a.getV()}
                : dl4j instanceof NesterovsUpdater v ? new INDArray[] {params, gradient, v.getV()}
                : new INDArray[] {params, gradient};
        long[] at = new long[arrays.length];
        for (int i = 0; i < arrays.length; i++) at[i] = address(arrays[i]);
        if (buffers == null || !java.util.Arrays.equals(at, addresses)) {
            buffers = new ByteBuffer[arrays.length];
            for (int i = 0; i < arrays.length; i++) buffers[i] = bytes(arrays[i]);
            addresses = at;
        }
        return buffers;
    }

    private static long address(INDArray a) {
        return a.data().addressPointer().address();
    }

    /** A dense float32 array's memory as a native-order byte buffer (ND4J's address already includes a view's offset). */
    private static ByteBuffer bytes(INDArray a) {
        if (a.dataType() != DataType.FLOAT || a.elementWiseStride() != 1)
            throw new IllegalStateException("not a dense float32 vector: " + a.shapeInfoToString());
        BytePointer bp = new BytePointer(a.data().addressPointer());
        long bytes = a.length() * Float.BYTES;
        bp.capacity(bytes).limit(bytes);
        return bp.position(0).asByteBuffer().order(ByteOrder.nativeOrder());
    }
}
