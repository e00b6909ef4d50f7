package io.sparkvision.model.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.batch_normalization_backward;
import org.bytedeco.dnnl.batch_normalization_forward;
import org.bytedeco.dnnl.memory;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.ref.Reference;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_MEAN;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_VARIANCE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WORKSPACE;
import static org.bytedeco.dnnl.global.dnnl.dnnl_fuse_norm_relu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_backward;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_training;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_global_stats;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_scale;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_shift;

/**
 * A DL4J BatchNorm helper that calls oneDNN's batch normalization directly: in training one forward primitive computes
 * the batch mean and variance itself (DL4J's own oneDNN helper computes them with two ND4J reductions first and then
 * calls libnd4j's batchnorm with them as global statistics) and one backward primitive gives the input gradient and
 * the gamma/beta gradients (written straight into DL4J's gradient views). Primitives are created once per layer and
 * input shape and kept; activations stay in the layer's own layout (NHWC or NCHW). The layer itself still updates its
 * running mean/variance from {@link #getMeanCache}/{@link #getVarCache} (population variance, as DL4J's).
 * Rank-4 float32 input with trainable gamma/beta only; anything else goes to the helper DL4J installed (or, with none,
 * DL4J's built-in path).
 */
public final class DnnlBatchNormHelper implements BatchNormalizationHelper, ReluSource {
    private final Map<Key, Prims> cache = new HashMap<>();
    private final BatchNormalizationHelper dl4j;
    private final boolean nchw;
    /** Batch statistics of the last training forward pass; outside any workspace (the layer reads them in backprop). */
    private INDArray meanCache, varCache;
    /** Whether the last forward pass went to DL4J's helper: then its caches hold the statistics. */
    private boolean lastDelegated;
    /**
     * Apply ReLU in the forward pass (oneDNN's {@code fuse_norm_relu}): set by {@link NativePath} where this layer's only
     * consumer is a plain ReLU layer, which then passes the output through ({@link DnnlReluLayer}). The backward is
     * fused too: oneDNN applies ReLU's derivative from the mask the forward pass kept in its workspace, and the ReLU
     * layer passes the gradient through ({@link #appliesReluDerivative}).
     */
    private boolean fuseRelu;
    private INDArray lastReluOutput;

    /**
     * @param dl4jHelper the helper DL4J installed itself (may be null: then DL4J's built-in path)
     * @param nchw       take NCHW layers too, not only NHWC ones
     */
    public DnnlBatchNormHelper(BatchNormalizationHelper dl4jHelper, boolean nchw) {
        this.dl4j = dl4jHelper;
        this.nchw = nchw;
    }

    void fuseRelu(boolean on) {
        fuseRelu = on;
        cache.clear();
    }

    boolean fusesRelu() {
        return fuseRelu;
    }

    /** Input and output held blocked ({@code nChw16c}); set by {@link NativePath} from the graph. */
    void blocked(boolean on) {
        if (blocked == on) return; // keep the primitives (install runs every step on Spark workers)
        blocked = on;
        cache.clear();
    }

    private boolean blocked;

    /** Whether this layer's activations are held blocked; for tests. */
    public boolean isBlocked() {
        return blocked;
    }

    @Override
    public boolean reluApplied(INDArray output) {
        return output != null && output == lastReluOutput;
    }

    @Override
    public boolean appliesReluDerivative() {
        return fuseRelu;
    }

    /** {@code blocked}: the layer's input and output are held in oneDNN's {@code nChw16c} ({@link NativePath}). */
    private record Key(long n, long c, long h, long w, boolean nhwc, float eps, boolean relu, boolean blocked) {
        long[] dims() {
            return new long[] {n, c, h, w};
        }

        memory.format_tag tag() {
            return blocked ? memory.format_tag.nChw16c : nhwc ? memory.format_tag.nhwc : memory.format_tag.nchw;
        }
    }

    /** Created on first use of a shape; the inference primitive only once inference runs. */
    private static final class Prims {
        final memory src, dst, mean, var, scale, shift, diffSrc, diffDst, diffScale, diffShift;
        /** fuse_norm_relu's training workspace: ReLU's mask, written by the forward pass and read by the backward. */
        final memory workspace;
        final batch_normalization_forward.primitive_desc trainPd;
        final batch_normalization_forward train;
        final batch_normalization_backward bwd;
        final Key k;
        batch_normalization_forward infer;

        Prims(Key k) {
            this.k = k;
            var eng = Dnnl.engine();
            memory.desc data = Dnnl.desc(k.dims(), k.tag());
            memory.desc vec = Dnnl.desc(new long[] {k.c}, memory.format_tag.x);
            int flags = dnnl_use_scale | dnnl_use_shift;
            var plainPd = new batch_normalization_forward.primitive_desc(
                    new batch_normalization_forward.desc(dnnl_forward_training, data, k.eps, flags), eng);
            trainPd = k.relu ? new batch_normalization_forward.primitive_desc(
                    new batch_normalization_forward.desc(dnnl_forward_training, data, k.eps, flags | dnnl_fuse_norm_relu), eng) : plainPd;
            train = new batch_normalization_forward(trainPd);
            workspace = k.relu ? new memory(trainPd.workspace_desc(), eng) : null;
            var bpd = new batch_normalization_backward.primitive_desc(new batch_normalization_backward.desc(
                    dnnl_backward, data, data, k.eps, k.relu ? flags | dnnl_fuse_norm_relu : flags), eng, trainPd);
            bwd = new batch_normalization_backward(bpd);
            src = new memory(data, eng, null);
            dst = new memory(data, eng, null);
            diffSrc = new memory(data, eng, null);
            diffDst = new memory(data, eng, null);
            mean = new memory(vec, eng, null);
            var = new memory(vec, eng, null);
            scale = new memory(vec, eng, null);
            shift = new memory(vec, eng, null);
            diffScale = new memory(vec, eng, null);
            diffShift = new memory(vec, eng, null);
        }

        batch_normalization_forward inference() {
            if (infer == null) {
                memory.desc data = Dnnl.desc(k.dims(), k.tag());
                int flags = dnnl_use_scale | dnnl_use_shift | dnnl_use_global_stats | (k.relu ? dnnl_fuse_norm_relu : 0);
                infer = new batch_normalization_forward(new batch_normalization_forward.primitive_desc(
                        new batch_normalization_forward.desc(dnnl_forward_inference, data, k.eps, flags), Dnnl.engine()));
            }
            return infer;
        }
    }

    private Key key(INDArray x, INDArray gamma, INDArray beta, double eps, CNN2DFormat format) {
        Key k = keyOrNull(x, gamma, beta, eps, format);
        if (k == null && blocked) {
            throw new NativePath.LayoutError("a BatchNorm marked for blocked activations got a call this helper does not take: input "
                    + x.shapeInfoToString() + "; run with -D" + NativePath.BLOCKED_PROPERTY + "=false");
        }
        return k;
    }

    private Key keyOrNull(INDArray x, INDArray gamma, INDArray beta, double eps, CNN2DFormat format) {
        if (x.rank() != 4 || x.dataType() != DataType.FLOAT || gamma == null || beta == null) return null;
        if (gamma.dataType() != DataType.FLOAT || beta.dataType() != DataType.FLOAT) return null;
        boolean nhwc = format == CNN2DFormat.NHWC;
        if (!nhwc && !nchw) return null;
        long n = x.size(0), c = nhwc ? x.size(3) : x.size(1), h = nhwc ? x.size(1) : x.size(2), w = nhwc ? x.size(2) : x.size(3);
        if (gamma.length() != c || beta.length() != c) return null;
        if (blocked && (!nhwc || c % 16 != 0)) return null; // NativePath never marks these
        return new Key(n, c, h, w, nhwc, (float) eps, fuseRelu, blocked);
    }

    @Override
    public boolean checkSupported(double eps, boolean fixedGammaBeta) {
        return Dnnl.available();
    }

    @Override
    public boolean checkSupported() {
        return Dnnl.available();
    }

    @Override
    public INDArray preOutput(INDArray x, boolean training, long[] shape, INDArray gamma, INDArray beta, INDArray mean,
                              INDArray var, double decay, double eps, CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        Key k = key(x, gamma, beta, eps, format);
        lastDelegated = k == null;
        lastReluOutput = null;
        if (k == null) return dl4j == null ? null : dl4j.preOutput(x, training, shape, gamma, beta, mean, var, decay, eps,
                format, workspaceMgr);
        Prims p = cache.computeIfAbsent(k, Prims::new);
        INDArray in = k.blocked ? Dnnl.denseBlocked(x, "a BatchNorm's input") : Dnnl.denseOrCopy(x);
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, in.shape());
        INDArray m, v;
        if (training) {
            if (meanCache == null || meanCache.length() != k.c) {
                try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                    meanCache = Nd4j.createUninitialized(DataType.FLOAT, k.c);
                    varCache = Nd4j.createUninitialized(DataType.FLOAT, k.c);
                }
            }
            m = meanCache;
            v = varCache;
        } else {
            m = Dnnl.denseOrCopy(mean.castTo(DataType.FLOAT));
            v = Dnnl.denseOrCopy(var.castTo(DataType.FLOAT));
        }
        p.src.set_data_handle(Dnnl.ptr(in));
        p.dst.set_data_handle(Dnnl.ptr(out));
        p.mean.set_data_handle(Dnnl.ptr(m));
        p.var.set_data_handle(Dnnl.ptr(v));
        INDArray g = Dnnl.denseOrCopy(gamma), b = Dnnl.denseOrCopy(beta);
        p.scale.set_data_handle(Dnnl.ptr(g));
        p.shift.set_data_handle(Dnnl.ptr(b));
        IntMemoryMap args = new IntMemoryMap();
        args.put(DNNL_ARG_SRC, p.src);
        args.put(DNNL_ARG_DST, p.dst);
        args.put(DNNL_ARG_MEAN, p.mean);
        args.put(DNNL_ARG_VARIANCE, p.var);
        args.put(DNNL_ARG_SCALE, p.scale);
        args.put(DNNL_ARG_SHIFT, p.shift);
        if (training && p.workspace != null) args.put(DNNL_ARG_WORKSPACE, p.workspace);
        (training ? p.train : p.inference()).execute(Dnnl.stream(), args);
        Reference.reachabilityFence(new Object[] {in, m, v, g, b}); // possible copies oneDNN just read
        if (k.relu) lastReluOutput = out;
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray epsilon, long[] shape, INDArray gamma,
                                                     INDArray beta, INDArray dGammaView, INDArray dBetaView, double eps,
                                                     CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        Key k = key(input, gamma, beta, eps, format);
        if (blocked && (lastDelegated || meanCache == null || meanCache.length() != k.c))
            throw new NativePath.LayoutError("a BatchNorm on blocked activations was asked for a backward pass without its forward; run with -D"
                    + NativePath.BLOCKED_PROPERTY + "=false");
        if (k == null || lastDelegated || meanCache == null || meanCache.length() != k.c)
            return dl4j == null ? null : dl4j.backpropGradient(input, epsilon, shape, gamma, beta, dGammaView, dBetaView,
                    eps, format, workspaceMgr);
        Prims p = cache.computeIfAbsent(k, Prims::new);
        INDArray in = k.blocked ? Dnnl.denseBlocked(input, "a BatchNorm's input") : Dnnl.denseOrCopy(input);
        INDArray dz = k.blocked ? Dnnl.denseBlocked(epsilon, "a BatchNorm's output gradient") : Dnnl.denseOrCopy(epsilon);
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, in.shape());
        INDArray dg = Dnnl.dense(dGammaView) ? dGammaView : dGammaView.ulike();
        INDArray db = Dnnl.dense(dBetaView) ? dBetaView : dBetaView.ulike();
        p.src.set_data_handle(Dnnl.ptr(in));
        p.diffDst.set_data_handle(Dnnl.ptr(dz));
        p.diffSrc.set_data_handle(Dnnl.ptr(dx));
        p.mean.set_data_handle(Dnnl.ptr(meanCache));
        p.var.set_data_handle(Dnnl.ptr(varCache));
        INDArray g = Dnnl.denseOrCopy(gamma), b = Dnnl.denseOrCopy(beta);
        p.scale.set_data_handle(Dnnl.ptr(g));
        p.shift.set_data_handle(Dnnl.ptr(b));
        p.diffScale.set_data_handle(Dnnl.ptr(dg));
        p.diffShift.set_data_handle(Dnnl.ptr(db));
        IntMemoryMap args = new IntMemoryMap();
        args.put(DNNL_ARG_SRC, p.src);
        args.put(DNNL_ARG_DIFF_DST, p.diffDst);
        args.put(DNNL_ARG_MEAN, p.mean);
        args.put(DNNL_ARG_VARIANCE, p.var);
        args.put(DNNL_ARG_SCALE, p.scale);
        args.put(DNNL_ARG_SHIFT, p.shift);
        args.put(DNNL_ARG_DIFF_SRC, p.diffSrc);
        args.put(DNNL_ARG_DIFF_SCALE, p.diffScale);
        args.put(DNNL_ARG_DIFF_SHIFT, p.diffShift);
        if (p.workspace != null) args.put(DNNL_ARG_WORKSPACE, p.workspace); // the mask of this layer's last forward
        p.bwd.execute(Dnnl.stream(), args);
        Reference.reachabilityFence(new Object[] {in, dz, g, b});
        if (dg != dGammaView) dGammaView.assign(dg.reshape(dGammaView.shape()));
        if (db != dBetaView) dBetaView.assign(db.reshape(dBetaView.shape()));
        Gradient grad = new DefaultGradient();
        grad.setGradientFor(BatchNormalizationParamInitializer.GAMMA, dGammaView);
        grad.setGradientFor(BatchNormalizationParamInitializer.BETA, dBetaView);
        return new Pair<>(grad, dx);
    }

    @Override
    public INDArray getMeanCache(DataType dataType) {
        return lastDelegated && dl4j != null ? dl4j.getMeanCache(dataType) : meanCache;
    }

    @Override
    public INDArray getVarCache(DataType dataType) {
        return lastDelegated && dl4j != null ? dl4j.getVarCache(dataType) : varCache;
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return Collections.emptyMap();
    }

    /** Primitive sets created so far (one per input shape seen); for tests. */
    public int primitiveSets() {
        return cache.size();
    }
}
