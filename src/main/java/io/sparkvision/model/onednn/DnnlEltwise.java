package io.sparkvision.model.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.binary;
import org.bytedeco.dnnl.eltwise_backward;
import org.bytedeco.dnnl.eltwise_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive_attr;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Map;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_0;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
import static org.bytedeco.dnnl.global.dnnl.dnnl_binary_add;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_relu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_training;

/**
 * ReLU forward/backward and add + ReLU as single oneDNN passes over dense float32 arrays, whatever their layout
 * (element-wise: each array is one vector of its length). Primitives per length, created once and kept; one instance
 * per layer/vertex (a network trains on one thread; Spark local[N] trains N networks).
 */
final class DnnlEltwise {
    private final Map<Long, Relu> relu = new HashMap<>();
    private final Map<Long, AddRelu> addRelu = new HashMap<>();

    private static memory.desc vector(long n) {
        return Dnnl.desc(new long[] {n}, memory.format_tag.x);
    }

    private static final class Relu {
        final eltwise_forward fwd;
        final eltwise_backward bwd;
        final memory src, dst, diffDst, diffSrc;

        Relu(long n) {
            var eng = Dnnl.engine();
            memory.desc d = vector(n);
            var fpd = new eltwise_forward.primitive_desc(new eltwise_forward.desc(dnnl_forward_training, dnnl_eltwise_relu, d, 0f, 0f), eng);
            fwd = new eltwise_forward(fpd);
            // relu'(x) from the layer's input x (x > 0); equal to dst > 0, so it holds whether or not the producer fused
            bwd = new eltwise_backward(new eltwise_backward.primitive_desc(new eltwise_backward.desc(dnnl_eltwise_relu, d, d, 0f, 0f), eng, fpd));
            src = new memory(d, eng, null);
            dst = new memory(d, eng, null);
            diffDst = new memory(d, eng, null);
            diffSrc = new memory(d, eng, null);
        }
    }

    private static final class AddRelu {
        final binary add;
        final memory a, b, dst;

        AddRelu(long n) {
            var eng = Dnnl.engine();
            memory.desc d = vector(n);
            post_ops ops = new post_ops();
            ops.append_eltwise(1f, dnnl_eltwise_relu, 0f, 0f);
            primitive_attr attr = new primitive_attr();
            attr.set_post_ops(ops);
            add = new binary(new binary.primitive_desc(new binary.desc(dnnl_binary_add, d, d, d), attr, eng));
            a = new memory(d, eng, null);
            b = new memory(d, eng, null);
            dst = new memory(d, eng, null);
        }
    }

    /** Whether these arrays can go to oneDNN as they are: dense float32, same length. */
    static boolean fits(INDArray... arrays) {
        long n = arrays[0].length();
        for (INDArray a : arrays) if (a.length() != n || !Dnnl.dense(a)) return false;
        return true;
    }

    /** y = max(x, 0). */
    void reluForward(INDArray x, INDArray y) {
        Relu p = relu.computeIfAbsent(x.length(), Relu::new);
        p.src.set_data_handle(Dnnl.ptr(x));
        p.dst.set_data_handle(Dnnl.ptr(y));
        IntMemoryMap args = new IntMemoryMap();
        args.put(DNNL_ARG_SRC, p.src);
        args.put(DNNL_ARG_DST, p.dst);
        p.fwd.execute(Dnnl.stream(), args);
    }

    /** dx = dy where x > 0, else 0. */
    void reluBackward(INDArray x, INDArray dy, INDArray dx) {
        Relu p = relu.computeIfAbsent(x.length(), Relu::new);
        p.src.set_data_handle(Dnnl.ptr(x));
        p.diffDst.set_data_handle(Dnnl.ptr(dy));
        p.diffSrc.set_data_handle(Dnnl.ptr(dx));
        IntMemoryMap args = new IntMemoryMap();
        args.put(DNNL_ARG_SRC, p.src);
        args.put(DNNL_ARG_DIFF_DST, p.diffDst);
        args.put(DNNL_ARG_DIFF_SRC, p.diffSrc);
        p.bwd.execute(Dnnl.stream(), args);
    }

    /** y = max(a + b, 0), one pass. */
    void addRelu(INDArray a, INDArray b, INDArray y) {
        AddRelu p = addRelu.computeIfAbsent(a.length(), AddRelu::new);
        p.a.set_data_handle(Dnnl.ptr(a));
        p.b.set_data_handle(Dnnl.ptr(b));
        p.dst.set_data_handle(Dnnl.ptr(y));
        IntMemoryMap args = new IntMemoryMap();
        args.put(DNNL_ARG_SRC_0, p.a);
        args.put(DNNL_ARG_SRC_1, p.b);
        args.put(DNNL_ARG_DST, p.dst);
        p.add.execute(Dnnl.stream(), args);
    }
}
