package io.sparkvision.model.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.convolution_backward_data;
import org.bytedeco.dnnl.convolution_backward_weights;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.reorder;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdDataAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdFilterAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.FwdAlgo;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * A DL4J conv helper that calls oneDNN directly (instead of libnd4j's conv2d op, which builds every primitive anew on
 * each call with {@code convolution_auto}): the forward, backward-data and backward-weights primitives are created
 * once per layer and input shape and kept; activations stay in the layer's own layout (NHWC or NCHW, no reorder);
 * the weights are reordered into the layout the primitive prefers once per pass (they change every step); the
 * algorithm is chosen per shape ({@link #CHOICE}).
 * Truncate-mode, undilated float32 convolutions only; anything else goes to the helper DL4J itself installed
 * (libnd4j's oneDNN), or returns null ("run the built-in path for this call") where there is none.
 */
public final class DnnlConvolutionHelper implements ConvolutionHelper {
    private final Map<Key, Prims> cache = new HashMap<>();
    /** DL4J's own (libnd4j oneDNN) helper, for the calls this one does not take. */
    private final ConvolutionHelper dl4j;

    /** Whether NCHW layers run here too (measured faster only for NHWC so far, docs/native-path.md). */
    private final boolean nchw;

    /**
     * @param dl4jHelper the helper DL4J installed itself (may be null: then DL4J's built-in path)
     * @param nchw       take NCHW layers too, not only NHWC ones
     */
    public DnnlConvolutionHelper(ConvolutionHelper dl4jHelper, boolean nchw) {
        this.dl4j = dl4jHelper;
        this.nchw = nchw;
    }

    /**
     * One primitive set per input shape. {@code srcBlocked}/{@code dstBlocked}: the input/output activations are held in
     * oneDNN's blocked {@code nChw16c} layout (in arrays DL4J still sees as NHWC; {@link NativePath} decides per tensor).
     */
    private record Key(long n, long c, long h, long w, long o, int kh, int kw, int sh, int sw, int ph, int pw, boolean nhwc, boolean bias,
                       boolean srcBlocked, boolean dstBlocked) {
        long oh() {
            return (h + 2L * ph - kh) / sh + 1;
        }

        long ow() {
            return (w + 2L * pw - kw) / sw + 1;
        }

        long[] srcDims() {
            return new long[] {n, c, h, w};
        }

        long[] dstDims() {
            return new long[] {n, o, oh(), ow()};
        }

        long[] weightDims() {
            return new long[] {o, c, kh, kw};
        }

        memory.format_tag act() {
            return nhwc ? memory.format_tag.nhwc : memory.format_tag.nchw;
        }

        /**
         * The primitive's own activation layout: blocked when either side is (then both are, so that oneDNN's blocked
         * kernels, Winograd among them, run; the other side is reordered in the helper), and only with channel counts
         * nChw16c holds without padding.
         */
        memory.format_tag primitiveAct() {
            return (srcBlocked || dstBlocked) && c % 16 == 0 && o % 16 == 0 ? memory.format_tag.nChw16c : act();
        }

        memory.format_tag srcAct() {
            return srcBlocked ? memory.format_tag.nChw16c : act();
        }

        memory.format_tag dstAct() {
            return dstBlocked ? memory.format_tag.nChw16c : act();
        }

        /**
         * The shape without its batch size: the algorithm measured for one batch size is kept for the others (a score
         * job's last batch of every archive has a size of its own; timing each would cost more than it could save).
         */
        Key geometry() {
            return new Key(0, c, h, w, o, kh, kw, sh, sw, ph, pw, nhwc, bias, srcBlocked, dstBlocked);
        }

        long[] layerShape(long[] nchw) {
            return nhwc ? new long[] {nchw[0], nchw[2], nchw[3], nchw[1]} : nchw;
        }
    }

    /**
     * How the convolution algorithm is chosen (system property {@code sparkvision.native-path.algorithm}):
     * {@code measure} (default) - where oneDNN's own heuristic ({@code convolution_auto}) picks Winograd, both Winograd
     * and direct primitives are built and timed once per shape (forward, backward-data, backward-weights and their
     * weight reorders, on scratch buffers) and the faster is kept, for the JVM's lifetime; {@code auto} - oneDNN's
     * heuristic, as libnd4j asks; {@code direct} - never Winograd. Measured on ResNet-18 at 64x64 (docs/native-path.md):
     * Winograd is 1.4-2.2x faster than direct on 16x16 to 4x4 feature maps and 1.9x slower on 2x2, where the heuristic
     * still picks it. As with cuDNN's benchmark mode, the choice can differ between runs where both are close.
     */
    static final String ALGORITHM_PROPERTY = "sparkvision.native-path.algorithm";

    enum Choice { MEASURE, AUTO, DIRECT }

    static final Choice CHOICE = choice(System.getProperty(ALGORITHM_PROPERTY, "measure"));

    static Choice choice(String value) {
        for (Choice c : Choice.values()) if (c.name().equalsIgnoreCase(value.trim())) return c;
        throw new IllegalArgumentException("-D" + ALGORITHM_PROPERTY + " must be measure, auto or direct, not '" + value + "'");
    }

    /**
     * The algorithm measured for each shape ({@link Key#geometry()}: batch size left out); JVM-wide, since parameter
     * averaging builds a new network every round.
     */
    private static final Map<Key, algorithm> MEASURED = new java.util.concurrent.ConcurrentHashMap<>();
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DnnlConvolutionHelper.class);
    /** Shapes timed so far, and how many of them chose direct; for tests and the benchmark's report. */
    private static final java.util.concurrent.atomic.AtomicInteger TIMED = new java.util.concurrent.atomic.AtomicInteger(),
            CHOSE_DIRECT = new java.util.concurrent.atomic.AtomicInteger();

    /** Shapes whose algorithm was measured in this JVM so far. */
    public static int shapesTimed() {
        return TIMED.get();
    }

    /** Of {@link #shapesTimed()}, those where direct beat Winograd. */
    public static int shapesChoosingDirect() {
        return CHOSE_DIRECT.get();
    }

    /** Created on first use of a shape, kept for the run. */
    private static final class Prims {
        final Key k;
        final memory src, dst, userWeights, bias, diffSrc, diffDst, userDiffWeights, diffBias;
        final memory weights, bwdWeights, diffWeights; // primitive layouts (may be the user memories)
        final primitive fwd, bwdData, bwdWeightsPrim;
        final reorder toFwdWeights, toBwdWeights, fromDiffWeights; // null when the layouts agree
        /** The primitives' arguments: the memory objects are fixed, only their data handles change per call. */
        final IntMemoryMap fwdArgs = new IntMemoryMap(), bwdDataArgs = new IntMemoryMap(), bwdWeightsArgs = new IntMemoryMap();
        final algorithm alg;
        /** Whether oneDNN picked a Winograd implementation for any of the three primitives. */
        final boolean winograd;
        /** The activations as the layer holds them, where that differs from the primitive's layout (else null). */
        final Side srcSide, dstSide;
        /** {@link #weights} holds the reorder of these user weights (see {@link WeightsSeen}); null = stale. */
        WeightsSeen fwdWeightsOf;

        Prims(Key k, algorithm alg) {
            this.k = k;
            this.alg = alg;
            var eng = Dnnl.engine();
            memory.desc srcD = Dnnl.desc(k.srcDims(), k.primitiveAct()), dstD = Dnnl.desc(k.dstDims(), k.primitiveAct());
            memory.desc userW = Dnnl.desc(k.weightDims(), memory.format_tag.oihw);
            memory.desc biasD = Dnnl.desc(new long[] {k.o}, memory.format_tag.x);
            long[] strides = {k.sh, k.sw}, pads = {k.ph, k.pw};
            // Truncate mode: the right padding that gives DL4J's floor-division output size; never negative (a strided
            // 1x1 conv on an even input would need -1: oneDNN's own floor division absorbs it at 0).
            long[] padR = {Math.max(0, (k.oh() - 1) * k.sh + k.kh - k.h - k.ph), Math.max(0, (k.ow() - 1) * k.sw + k.kw - k.w - k.pw)};
            var fd = k.bias
                    ? new convolution_forward.desc(prop_kind.forward_training, alg, srcD, Dnnl.any(k.weightDims()), biasD, dstD, strides, pads, padR)
                    : new convolution_forward.desc(prop_kind.forward_training, alg, srcD, Dnnl.any(k.weightDims()), dstD, strides, pads, padR);
            var fpd = new convolution_forward.primitive_desc(fd, eng);
            var bdd = new convolution_backward_data.desc(alg, srcD, Dnnl.any(k.weightDims()), dstD, strides, pads, padR);
            var bdpd = new convolution_backward_data.primitive_desc(bdd, eng, fpd);
            var bwd = k.bias
                    ? new convolution_backward_weights.desc(alg, srcD, Dnnl.any(k.weightDims()), biasD, dstD, strides, pads, padR)
                    : new convolution_backward_weights.desc(alg, srcD, Dnnl.any(k.weightDims()), dstD, strides, pads, padR);
            var bwpd = new convolution_backward_weights.primitive_desc(bwd, eng, fpd);

            srcSide = k.srcAct() == k.primitiveAct() ? null : new Side(Dnnl.desc(k.srcDims(), k.srcAct()), srcD);
            dstSide = k.dstAct() == k.primitiveAct() ? null : new Side(Dnnl.desc(k.dstDims(), k.dstAct()), dstD);
            // Where a side is reordered, the primitive reads/writes oneDNN-owned buffers; else the layer's arrays.
            src = srcSide == null ? new memory(srcD, eng, null) : srcSide.primitive;
            diffSrc = srcSide == null ? new memory(srcD, eng, null) : srcSide.primitiveGrad;
            dst = dstSide == null ? new memory(dstD, eng, null) : dstSide.primitive;
            diffDst = dstSide == null ? new memory(dstD, eng, null) : dstSide.primitiveGrad;
            userWeights = new memory(userW, eng, null);
            userDiffWeights = new memory(userW, eng, null);
            bias = k.bias ? new memory(biasD, eng, null) : null;
            diffBias = k.bias ? new memory(biasD, eng, null) : null;

            boolean fwdSame = fpd.weights_desc().equals(userW);
            weights = fwdSame ? userWeights : new memory(fpd.weights_desc(), eng);
            toFwdWeights = fwdSame ? null : new reorder(userWeights, weights);
            boolean bwdSame = bdpd.weights_desc().equals(userW);
            bwdWeights = bwdSame ? userWeights : new memory(bdpd.weights_desc(), eng);
            toBwdWeights = bwdSame ? null : new reorder(userWeights, bwdWeights);
            boolean dwSame = bwpd.diff_weights_desc().equals(userW);
            diffWeights = dwSame ? userDiffWeights : new memory(bwpd.diff_weights_desc(), eng);
            fromDiffWeights = dwSame ? null : new reorder(diffWeights, userDiffWeights);

            fwd = new convolution_forward(fpd);
            bwdData = new convolution_backward_data(bdpd);
            bwdWeightsPrim = new convolution_backward_weights(bwpd);
            winograd = wino(fpd) || wino(bdpd) || wino(bwpd);

            fwdArgs.put(DNNL_ARG_SRC, src);
            fwdArgs.put(DNNL_ARG_WEIGHTS, weights);
            fwdArgs.put(DNNL_ARG_DST, dst);
            if (k.bias) fwdArgs.put(DNNL_ARG_BIAS, bias);
            bwdDataArgs.put(DNNL_ARG_DIFF_DST, diffDst);
            bwdDataArgs.put(DNNL_ARG_WEIGHTS, bwdWeights);
            bwdDataArgs.put(DNNL_ARG_DIFF_SRC, diffSrc);
            bwdWeightsArgs.put(DNNL_ARG_SRC, src);
            bwdWeightsArgs.put(DNNL_ARG_DIFF_DST, diffDst);
            bwdWeightsArgs.put(DNNL_ARG_DIFF_WEIGHTS, diffWeights);
            if (k.bias) bwdWeightsArgs.put(DNNL_ARG_DIFF_BIAS, diffBias);
        }

        private static boolean wino(org.bytedeco.dnnl.primitive_desc_base pd) {
            return pd.impl_info_str().getString().contains("wino");
        }

        /** One training pass on whatever the buffers hold: weight reorders, forward, backward-data, backward-weights. */
        void runAll() {
            reorder(toFwdWeights, userWeights, weights);
            fwd.execute(Dnnl.stream(), fwdArgs);
            reorder(toBwdWeights, userWeights, bwdWeights);
            bwdData.execute(Dnnl.stream(), bwdDataArgs);
            bwdWeightsPrim.execute(Dnnl.stream(), bwdWeightsArgs);
            reorder(fromDiffWeights, diffWeights, userDiffWeights);
        }

        /** The memories whose buffers the layer's arrays provide (the others are oneDNN's own). */
        java.util.List<memory> userMemories() {
            var list = new java.util.ArrayList<memory>(java.util.List.of(userWeights, userDiffWeights));
            if (srcSide == null) list.addAll(java.util.List.of(src, diffSrc));
            if (dstSide == null) list.addAll(java.util.List.of(dst, diffDst));
            if (k.bias) list.addAll(java.util.List.of(bias, diffBias));
            return list;
        }
    }

    /**
     * One side (input or output) of a conv whose layer holds its activations in another layout than the primitive's:
     * the layer's array (and its gradient) are reordered into / out of oneDNN-owned buffers. Happens at the edges of a
     * blocked region: a block's input straight from the max-pool, the last stage's outputs on their way to pooling.
     */
    private static final class Side {
        final memory layer, layerGrad, primitive, primitiveGrad;
        final reorder toPrimitive, gradToPrimitive, toLayer, gradToLayer;

        Side(memory.desc layerDesc, memory.desc primitiveDesc) {
            var eng = Dnnl.engine();
            layer = new memory(layerDesc, eng, null);
            layerGrad = new memory(layerDesc, eng, null);
            primitive = new memory(primitiveDesc, eng);
            primitiveGrad = new memory(primitiveDesc, eng);
            toPrimitive = new reorder(layer, primitive);
            gradToPrimitive = new reorder(layerGrad, primitiveGrad);
            toLayer = new reorder(primitive, layer);
            gradToLayer = new reorder(primitiveGrad, layerGrad);
        }
    }

    /**
     * Which user weights the forward primitive's reordered copy was made from: their address, length and a CRC32C of
     * every value. Weights change in place (the updater subtracts into the same buffer), so every backprop through this
     * helper marks the copy stale (the next forward reorders again); a model whose parameters are replaced without
     * backprop (setParams: Spark averaging on the driver, a restore into the same buffers) changes the checksum. One
     * streaming pass (the JDK's CRC32C intrinsic) is far cheaper than the blocked reorder it saves, so inference (score,
     * evaluate) reorders each layer's weights once, not on every call, and never uses weights that changed.
     */
    private record WeightsSeen(long address, long length, long crc) {
        static WeightsSeen of(INDArray w) {
            long n = w.length();
            java.nio.ByteBuffer bytes = new org.bytedeco.javacpp.BytePointer(Dnnl.ptr(w)).capacity(n * Float.BYTES).asByteBuffer();
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(bytes);
            return new WeightsSeen(Dnnl.ptr(w).address(), n, crc.getValue());
        }

        boolean same(WeightsSeen o) {
            return equals(o);
        }
    }

    private static void reorder(reorder r, memory from, memory to) {
        if (r == null) return;
        IntMemoryMap m = new IntMemoryMap();
        m.put(DNNL_ARG_FROM, from);
        m.put(DNNL_ARG_TO, to);
        r.execute(Dnnl.stream(), m);
    }

    private Key key(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                    ConvolutionMode mode, int[] dilation, CNN2DFormat format) {
        Key k = keyOrNull(input, weights, bias, kernel, strides, pad, mode, dilation, format);
        if (k == null && (srcBlocked || dstBlocked)) {
            // NativePath only marks convolutions this helper takes; DL4J would run its own code on blocked data.
            throw new NativePath.LayoutError("a convolution marked for blocked activations got a call this helper does not take: input "
                    + input.shapeInfoToString() + ", mode " + mode + "; run with -D" + NativePath.BLOCKED_PROPERTY + "=false");
        }
        return k;
    }

    private Key keyOrNull(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                          ConvolutionMode mode, int[] dilation, CNN2DFormat format) {
        if (mode != ConvolutionMode.Truncate && mode != ConvolutionMode.Strict) return null;
        if (dilation[0] != 1 || dilation[1] != 1) return null;
        if (input.rank() != 4 || input.dataType() != DataType.FLOAT || weights.dataType() != DataType.FLOAT) return null;
        boolean nhwc = format == CNN2DFormat.NHWC;
        if (!nhwc && !nchw) return null;
        long n = input.size(0), c = nhwc ? input.size(3) : input.size(1), h = nhwc ? input.size(1) : input.size(2), w = nhwc ? input.size(2) : input.size(3);
        if (weights.size(1) != c) return null;
        Key k = new Key(n, c, h, w, weights.size(0), kernel[0], kernel[1], strides[0], strides[1], pad[0], pad[1], nhwc, bias != null,
                srcBlocked, dstBlocked);
        if (srcBlocked || dstBlocked) return k; // nobody else can read a blocked array: this helper takes every call
        // 1x1 feature maps (ResNet's last stage at 32x32 input): with this helper's output there ChannelsLastTest's
        // NCHW and NHWC ResNet-18 disagreed after the BatchNorm that follows (cause not found in the time given;
        // DL4J's own built-in path there disagreed as well). DL4J's oneDNN helper takes those calls, as before.
        if (h * w == 1 || k.oh() * k.ow() == 1) return null;
        return k;
    }

    private Prims prims(Key k) {
        return cache.computeIfAbsent(k, DnnlConvolutionHelper::create);
    }

    /** The primitive set for a shape, its algorithm chosen as {@link #CHOICE} says. */
    private static Prims create(Key k) {
        if (CHOICE == Choice.DIRECT) return new Prims(k, algorithm.convolution_direct);
        if (CHOICE == Choice.AUTO) return new Prims(k, algorithm.convolution_auto);
        algorithm known = MEASURED.get(k.geometry());
        if (known != null) return new Prims(k, known);
        Prims auto = new Prims(k, algorithm.convolution_auto);
        if (!auto.winograd) return auto; // oneDNN's heuristic chose direct kernels itself: nothing to choose between
        Prims direct = new Prims(k, algorithm.convolution_direct);
        long[] ns = time(auto, direct);
        Prims best = ns[1] < ns[0] ? direct : auto;
        MEASURED.put(k.geometry(), best.alg);
        TIMED.incrementAndGet();
        if (best == direct) CHOSE_DIRECT.incrementAndGet();
        LOG.debug("conv {}: Winograd {} us, direct {} us per training pass: {}", k, ns[0] / 1000, ns[1] / 1000, best == direct ? "direct" : "Winograd");
        return best;
    }

    /**
     * Best of three training passes of each primitive set, alternating, on shared zeroed scratch buffers (both sets
     * read and write the same user-side shapes); the first pass of each is a warm-up. Nanoseconds per set.
     */
    private static long[] time(Prims a, Prims b) {
        var eng = Dnnl.engine();
        var scratch = new java.util.ArrayList<memory>();
        var am = a.userMemories();
        var bm = b.userMemories();
        for (int i = 0; i < am.size(); i++) {
            memory m = new memory(am.get(i).get_desc(), eng);
            org.bytedeco.javacpp.Pointer.memset(m.get_data_handle(), 0, am.get(i).get_desc().get_size());
            scratch.add(m);
            am.get(i).set_data_handle(m.get_data_handle());
            bm.get(i).set_data_handle(m.get_data_handle());
        }
        a.runAll();
        b.runAll();
        long[] best = {Long.MAX_VALUE, Long.MAX_VALUE};
        for (int r = 0; r < 3; r++) {
            Prims[] order = {a, b};
            for (int i = 0; i < 2; i++) {
                long t0 = System.nanoTime();
                order[i].runAll();
                best[i] = Math.min(best[i], System.nanoTime() - t0);
            }
        }
        for (memory m : scratch) m.close(); // every call sets its own handles before a primitive runs
        return best;
    }

    @Override
    public boolean checkSupported() {
        return Dnnl.available();
    }

    @Override
    public INDArray preOutput(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                              AlgoMode mode, FwdAlgo fwdAlgo, ConvolutionMode convolutionMode, int[] dilation,
                              CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        Key k = key(input, weights, bias, kernel, strides, pad, convolutionMode, dilation, format);
        if (k == null) return dl4j == null ? null : dl4j.preOutput(input, weights, bias, kernel, strides, pad, mode,
                fwdAlgo, convolutionMode, dilation, format, workspaceMgr);
        Prims p = prims(k);
        INDArray in = k.srcBlocked ? Dnnl.denseBlocked(input, "a convolution's input") : Dnnl.denseOrCopy(input);
        INDArray w = Dnnl.denseOrCopy(weights);
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, k.layerShape(k.dstDims()));
        p.userWeights.set_data_handle(Dnnl.ptr(w));
        if (p.toFwdWeights != null && w != weights) { // a fresh copy each call: nothing to recognise
            reorder(p.toFwdWeights, p.userWeights, p.weights);
            p.fwdWeightsOf = null;
            forwardWeightReorders++;
        } else if (p.toFwdWeights != null) {
            WeightsSeen seen = WeightsSeen.of(w);
            if (!seen.same(p.fwdWeightsOf)) {
                reorder(p.toFwdWeights, p.userWeights, p.weights);
                p.fwdWeightsOf = seen;
                forwardWeightReorders++;
            }
        }
        setSrc(p, in);
        if (p.dstSide == null) p.dst.set_data_handle(Dnnl.ptr(out));
        if (k.bias) p.bias.set_data_handle(Dnnl.ptr(Dnnl.denseOrCopy(bias)));
        p.fwd.execute(Dnnl.stream(), p.fwdArgs);
        if (p.dstSide != null) {
            p.dstSide.layer.set_data_handle(Dnnl.ptr(out));
            reorder(p.dstSide.toLayer, p.dstSide.primitive, p.dstSide.layer);
        }
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias, INDArray delta,
                                                     int[] kernel, int[] strides, int[] pad, INDArray biasGradView,
                                                     INDArray weightGradView, IActivation afn, AlgoMode mode,
                                                     BwdFilterAlgo bwdFilterAlgo, BwdDataAlgo bwdDataAlgo,
                                                     ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format,
                                                     LayerWorkspaceMgr workspaceMgr) {
        Key k = key(input, weights, bias, kernel, strides, pad, convolutionMode, dilation, format);
        if (k == null) return dl4j == null ? null : dl4j.backpropGradient(input, weights, bias, delta, kernel, strides,
                pad, biasGradView, weightGradView, afn, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode, dilation,
                format, workspaceMgr);
        Prims p = prims(k);
        for (Prims any : cache.values()) any.fwdWeightsOf = null; // the updater changes the weights after this
        INDArray in = k.srcBlocked ? Dnnl.denseBlocked(input, "a convolution's input") : Dnnl.denseOrCopy(input);
        INDArray dz = k.dstBlocked ? Dnnl.denseBlocked(delta, "a convolution's output gradient") : Dnnl.denseOrCopy(delta);
        INDArray w = Dnnl.denseOrCopy(weights);
        INDArray eps = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, in.shape());
        boolean wgDense = Dnnl.dense(weightGradView);
        INDArray wg = wgDense ? weightGradView : weightGradView.ulike();

        if (p.dstSide == null) {
            p.diffDst.set_data_handle(Dnnl.ptr(dz));
        } else {
            p.dstSide.layerGrad.set_data_handle(Dnnl.ptr(dz));
            reorder(p.dstSide.gradToPrimitive, p.dstSide.layerGrad, p.dstSide.primitiveGrad);
        }
        if (inputGradientUnused) {
            // The network's input: nothing reads its gradient in training (DL4J hands it to the input vertex and
            // drops it). NaN, not zeros, so that a caller who does read it sees at once that it was not computed.
            eps.assign(Float.NaN);
            skippedInputGradients++;
        } else {
            p.userWeights.set_data_handle(Dnnl.ptr(w));
            reorder(p.toBwdWeights, p.userWeights, p.bwdWeights);
            if (p.srcSide == null) p.diffSrc.set_data_handle(Dnnl.ptr(eps));
            p.bwdData.execute(Dnnl.stream(), p.bwdDataArgs);
            if (p.srcSide != null) {
                p.srcSide.layerGrad.set_data_handle(Dnnl.ptr(eps));
                reorder(p.srcSide.gradToLayer, p.srcSide.primitiveGrad, p.srcSide.layerGrad);
            }
        }

        setSrc(p, in);
        p.userDiffWeights.set_data_handle(Dnnl.ptr(wg));
        INDArray bg = null;
        if (k.bias) {
            bg = Dnnl.dense(biasGradView) ? biasGradView : biasGradView.ulike();
            p.diffBias.set_data_handle(Dnnl.ptr(bg));
        }
        p.bwdWeightsPrim.execute(Dnnl.stream(), p.bwdWeightsArgs);
        reorder(p.fromDiffWeights, p.diffWeights, p.userDiffWeights);
        if (!wgDense) weightGradView.assign(wg);
        if (bg != null && bg != biasGradView) biasGradView.assign(bg);

        Gradient g = new DefaultGradient();
        if (k.bias) g.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
        g.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView);
        return new Pair<>(g, eps);
    }

    /** The primitive's input: the layer's array itself, or its reorder into the primitive's layout. */
    private static void setSrc(Prims p, INDArray in) {
        if (p.srcSide == null) {
            p.src.set_data_handle(Dnnl.ptr(in));
        } else {
            p.srcSide.layer.set_data_handle(Dnnl.ptr(in));
            reorder(p.srcSide.toPrimitive, p.srcSide.layer, p.srcSide.primitive);
        }
    }

    /**
     * Which of this layer's activations are held blocked ({@code nChw16c}): its input and its output. Set by
     * {@link NativePath} from the graph (every reader and writer of the tensor must be one of the product's layers).
     */
    void blocked(boolean input, boolean output) {
        if (srcBlocked == input && dstBlocked == output) return; // keep the primitives (install runs every step on Spark workers)
        srcBlocked = input;
        dstBlocked = output;
        cache.clear();
    }

    private boolean srcBlocked, dstBlocked;

    /** Whether this layer's input / output activations are held blocked; for tests. */
    public boolean inputBlocked() {
        return srcBlocked;
    }

    public boolean outputBlocked() {
        return dstBlocked;
    }

    @Override
    public INDArray activate(INDArray z, IActivation afn, boolean training) {
        return afn.getActivation(z, training);
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return Collections.emptyMap();
    }

    /** Reorders of the weights into the forward primitive's layout so far (skipped while they are unchanged); for tests. */
    public int forwardWeightReorders() {
        return forwardWeightReorders;
    }

    private int forwardWeightReorders;

    /**
     * Backprop of a layer whose input is the network's own input: the gradient with respect to the input (oneDNN's
     * backward-data pass, as long as the forward pass for a 3-channel stem) is not computed; the returned epsilon is
     * NaN. Set by {@link NativePath} for convolutions fed by a graph input vertex only.
     */
    void inputGradientUnused(boolean unused) {
        this.inputGradientUnused = unused;
    }

    private boolean inputGradientUnused;

    /** Backprops that skipped the input gradient so far; for tests. */
    public int skippedInputGradients() {
        return skippedInputGradients;
    }

    private int skippedInputGradients;

    /** Primitive sets created so far (one per input shape seen); for tests. */
    public int primitiveSets() {
        return cache.size();
    }
}
