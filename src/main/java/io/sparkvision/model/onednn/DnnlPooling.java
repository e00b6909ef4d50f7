package io.sparkvision.model.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.pooling_backward;
import org.bytedeco.dnnl.pooling_forward;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Map;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WORKSPACE;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_training;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_avg_exclude_padding;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_avg_include_padding;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_max;

/**
 * oneDNN max/average pooling, forward and backward, over dense float32 arrays in one layout (NHWC, NCHW or the blocked
 * {@code nChw16c} of {@link NativePath#BLOCKED_PROPERTY}) for both sides. Primitives per geometry, created once and
 * kept. Max pooling's training pass writes oneDNN's workspace (where each maximum came from), which the backward pass
 * reads instead of searching the window again; the caller says whether the workspace still belongs to the input it
 * differentiates ({@link #backward}). One instance per layer: a network trains on one thread.
 */
final class DnnlPooling {
    /** How an average divides at the border: by the whole window, or by the input values inside it. */
    enum Kind {
        MAX(dnnl_pooling_max), AVG_INCLUDE_PADDING(dnnl_pooling_avg_include_padding), AVG_EXCLUDE_PADDING(dnnl_pooling_avg_exclude_padding);

        final int algorithm;

        Kind(int algorithm) {
            this.algorithm = algorithm;
        }
    }

    /** Logical NCHW dims of input and output; padding top/left and bottom/right (oneDNN takes them apart). */
    record Key(Kind kind, long n, long c, long h, long w, long outH, long outW, int kh, int kw, int sh, int sw,
               int padTop, int padLeft, int padBottom, int padRight, memory.format_tag tag) {
        long[] src() {
            return new long[] {n, c, h, w};
        }

        long[] dst() {
            return new long[] {n, c, outH, outW};
        }
    }

    private static final class Prims {
        final Key k;
        final pooling_forward.primitive_desc trainPd;
        final pooling_forward train;
        final pooling_backward bwd;
        final memory src, dst, diffSrc, diffDst, workspace;
        /** Where the training pass's output goes when the backward pass must rebuild the workspace. */
        memory scratchDst;
        pooling_forward infer;
        final IntMemoryMap trainArgs = new IntMemoryMap(), inferArgs = new IntMemoryMap(), bwdArgs = new IntMemoryMap();

        Prims(Key k) {
            this.k = k;
            var eng = Dnnl.engine();
            memory.desc srcD = Dnnl.desc(k.src(), k.tag()), dstD = Dnnl.desc(k.dst(), k.tag());
            trainPd = new pooling_forward.primitive_desc(forward(dnnl_forward_training), eng);
            train = new pooling_forward(trainPd);
            bwd = new pooling_backward(new pooling_backward.primitive_desc(new pooling_backward.desc(k.kind().algorithm, srcD, dstD,
                    strides(), kernel(), padL(), padR()), eng, trainPd));
            src = new memory(srcD, eng, null);
            dst = new memory(dstD, eng, null);
            diffSrc = new memory(srcD, eng, null);
            diffDst = new memory(dstD, eng, null);
            workspace = k.kind() == Kind.MAX ? new memory(trainPd.workspace_desc(), eng) : null;
            trainArgs.put(DNNL_ARG_SRC, src);
            trainArgs.put(DNNL_ARG_DST, dst);
            if (workspace != null) trainArgs.put(DNNL_ARG_WORKSPACE, workspace);
            inferArgs.put(DNNL_ARG_SRC, src);
            inferArgs.put(DNNL_ARG_DST, dst);
            bwdArgs.put(DNNL_ARG_DIFF_DST, diffDst);
            bwdArgs.put(DNNL_ARG_DIFF_SRC, diffSrc);
            if (workspace != null) bwdArgs.put(DNNL_ARG_WORKSPACE, workspace);
        }

        pooling_forward infer() {
            if (infer == null) infer = new pooling_forward(new pooling_forward.primitive_desc(forward(dnnl_forward_inference), Dnnl.engine()));
            return infer;
        }

        private pooling_forward.desc forward(int propKind) {
            return new pooling_forward.desc(propKind, k.kind().algorithm, Dnnl.desc(k.src(), k.tag()), Dnnl.desc(k.dst(), k.tag()),
                    strides(), kernel(), padL(), padR());
        }

        private long[] strides() {
            return new long[] {k.sh(), k.sw()};
        }

        private long[] kernel() {
            return new long[] {k.kh(), k.kw()};
        }

        private long[] padL() {
            return new long[] {k.padTop(), k.padLeft()};
        }

        private long[] padR() {
            return new long[] {k.padBottom(), k.padRight()};
        }
    }

    private final Map<Key, Prims> cache = new HashMap<>();
    private long workspaceRebuilds;

    private Prims prims(Key k) {
        return cache.computeIfAbsent(k, Prims::new);
    }

    /** {@code y = pool(x)}; in training max pooling also records where each maximum came from. */
    void forward(Key k, INDArray x, INDArray y, boolean training) {
        Prims p = prims(k);
        p.src.set_data_handle(Dnnl.ptr(x));
        p.dst.set_data_handle(Dnnl.ptr(y));
        if (training) p.train.execute(Dnnl.stream(), p.trainArgs);
        else p.infer().execute(Dnnl.stream(), p.inferArgs);
    }

    /**
     * {@code dx} from {@code dy}. For max pooling {@code workspaceCurrent} says whether the last training pass of this
     * geometry ran on {@code x}; if not, the training pass runs again (into scratch memory) to rebuild it.
     */
    void backward(Key k, INDArray x, INDArray dy, INDArray dx, boolean workspaceCurrent) {
        Prims p = prims(k);
        if (p.workspace != null && !workspaceCurrent) {
            if (p.scratchDst == null) p.scratchDst = new memory(Dnnl.desc(k.dst(), k.tag()), Dnnl.engine());
            IntMemoryMap args = new IntMemoryMap();
            p.src.set_data_handle(Dnnl.ptr(x));
            args.put(DNNL_ARG_SRC, p.src);
            args.put(DNNL_ARG_DST, p.scratchDst);
            args.put(DNNL_ARG_WORKSPACE, p.workspace);
            p.train.execute(Dnnl.stream(), args);
            workspaceRebuilds++;
        }
        p.diffDst.set_data_handle(Dnnl.ptr(dy));
        p.diffSrc.set_data_handle(Dnnl.ptr(dx));
        p.bwd.execute(Dnnl.stream(), p.bwdArgs);
    }

    /** Backward passes of max pooling that had to run the forward pass again (the input changed since training's). */
    long workspaceRebuilds() {
        return workspaceRebuilds;
    }

    /** Drops the primitives (the layout changed). */
    void clear() {
        cache.clear();
    }
}
