package io.sparkvision.model.optim;

import org.bytedeco.javacpp.BytePointer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * DL4J's Adam for one updater block, with the parameter step folded in: one pass over the block's parameters,
 * gradient and moments ({@link AdamKernel}) instead of DL4J's two (libnd4j's Adam op, then the step function's
 * subtraction, which {@link FusedSteps.Step} leaves out for this block). The moments are
 * DL4J's own state views (the first half of the block's updater state M, the second V), so {@code updaterState.bin},
 * checkpoints and parameter averaging see the layout they always did. Where the step cannot be folded in - an
 * external gradient, or gradient sharing's accumulator - it calls DL4J's updater.
 */
final class FusedAdamUpdater implements GradientUpdater<Adam> {
    private final AdamUpdater dl4j;
    private final FusedSteps.Step step;
    private final INDArray params, gradient;
    private ByteBuffer p, g, m, v;
    private long pAt, gAt, mAt, vAt;

    FusedAdamUpdater(AdamUpdater dl4j, FusedSteps.Step step, INDArray params, INDArray gradient) {
        this.dl4j = dl4j;
        this.step = step;
        this.params = params;
        this.gradient = gradient;
    }

    AdamUpdater dl4j() {
        return dl4j;
    }

    @Override
    public Adam getConfig() {
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
        if (address(grad) != address(gradient) || grad.length() != gradient.length()) {
            dl4j.applyUpdater(grad, iteration, epoch); // another network's gradient (DL4J's external case): DL4J's step applies it
            return;
        }
        if (!step.direct()) {
            dl4j.applyUpdater(grad, iteration, epoch); // gradient sharing: its accumulator applies the update
            return;
        }
        Adam c = dl4j.getConfig();
        // libnd4j's adam_updater's constants, in float as it computes them
        float beta1 = (float) c.getBeta1(), beta2 = (float) c.getBeta2(), lr = (float) c.getLearningRate(iteration, epoch);
        float eps = (float) c.getEpsilon();
        if (eps == 0f) eps = 1e-7f;
        float beta1T = (float) Math.pow(beta1, iteration + 1), beta2T = (float) Math.pow(beta2, iteration + 1);
        float stepLr = (float) (lr * (float) Math.sqrt(1.0 - beta2T) / (1.0 - beta1T));
        if (Float.isNaN(stepLr) || Float.isInfinite(stepLr) || stepLr == 0f) stepLr = eps;
        buffers();
        int n = (int) gradient.length();
        int chunks = (int) Math.max(1, Math.min(Nd4j.getEnvironment().maxThreads(), n / (1 << 16)));
        float fBeta1 = beta1, fBeta2 = beta2, fStep = stepLr, fEps = eps;
        if (chunks == 1) {
            AdamKernel.apply(p, g, m, v, 0, n, fBeta1, fBeta2, fStep, fEps);
        } else {
            IntStream.range(0, chunks).parallel().forEach(t -> AdamKernel.apply(p, g, m, v, (int) ((long) n * t / chunks),
                    (int) ((long) n * (t + 1) / chunks), fBeta1, fBeta2, fStep, fEps));
        }
        step.applied();
    }

    /** Byte views of the four arrays, made again only when an array moved (DL4J re-creating a view array). */
    private void buffers() {
        INDArray mArr = dl4j.getM(), vArr = dl4j.getV();
        if (p == null || pAt != address(params) || gAt != address(gradient) || mAt != address(mArr) || vAt != address(vArr)) {
            p = bytes(params);
            g = bytes(gradient);
            m = bytes(mArr);
            v = bytes(vArr);
            pAt = address(params);
            gAt = address(gradient);
            mAt = address(mArr);
            vAt = address(vArr);
        }
    }

    private static long address(INDArray a) {
        return a.data().addressPointer().address();
    }

    /** A dense float32 array's memory as a native-order byte buffer (ND4J's address already includes a view's offset). */
    private static ByteBuffer bytes(INDArray a) {
        if (a.dataType() != org.nd4j.linalg.api.buffer.DataType.FLOAT || a.elementWiseStride() != 1 || !a.isVectorOrScalar() && a.ordering() != 'c')
            throw new IllegalStateException("not a dense float32 vector: " + a.shapeInfoToString());
        BytePointer bp = new BytePointer(a.data().addressPointer());
        long bytes = a.length() * Float.BYTES;
        bp.capacity(bytes).limit(bytes);
        return bp.position(0).asByteBuffer().order(ByteOrder.nativeOrder());
    }
}
