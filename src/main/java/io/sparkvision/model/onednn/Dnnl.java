package io.sparkvision.model.onednn;

import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The product's own oneDNN (JavaCPP's {@code org.bytedeco:dnnl} 2.5.2, a separate copy from the one libnd4jcpu links
 * statically; libnd4jcpu exports no {@code dnnl_} symbols and both share ND4J's libgomp, so the OpenMP thread count
 * ND4J sets applies here too). One CPU engine per JVM, one stream per thread (oneDNN streams are not thread-safe and
 * Spark local[N] trains N networks in one JVM).
 */
public final class Dnnl {
    private Dnnl() {
    }

    private static volatile Boolean available;
    private static engine cpu;
    private static final ThreadLocal<stream> STREAM = ThreadLocal.withInitial(() -> new stream(engine()));

    /** True on ND4J's CPU backend when JavaCPP's oneDNN loads; false (never throws) otherwise, e.g. on CUDA. */
    public static boolean available() {
        Boolean a = available;
        if (a == null) {
            synchronized (Dnnl.class) {
                if (available == null) available = probe();
                a = available;
            }
        }
        return a;
    }

    private static boolean probe() {
        try {
            String backend = Nd4j.getExecutioner().getEnvironmentInformation().getProperty("backend");
            if (backend != null && !backend.equalsIgnoreCase("CPU")) return false;
            cpu = new engine(engine.kind.cpu, 0);
            return true;
        } catch (Throwable t) {
            org.slf4j.LoggerFactory.getLogger(Dnnl.class).warn("oneDNN (org.bytedeco:dnnl) unavailable, DL4J's own layers run: {}", t.toString());
            return false;
        }
    }

    static engine engine() {
        if (!available()) throw new IllegalStateException("oneDNN unavailable");
        return cpu;
    }

    static stream stream() {
        return STREAM.get();
    }

    /** Whether oneDNN can read/write {@code a} in place: float32, row-major, dense. */
    static boolean dense(INDArray a) {
        if (a.dataType() != DataType.FLOAT) return false;
        // Own check: ND4J's Shape.hasDefaultStridesForShape rejects e.g. [128,64,1,1] with strides [64,1,1,1]
        // (a 1x1 conv's weights); the stride of a size-1 dimension never matters.
        long expected = 1;
        long[] shape = a.shape(), stride = a.stride();
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /** {@code a} itself when dense, else a dense copy. */
    static INDArray denseOrCopy(INDArray a) {
        return dense(a) ? a : a.dup('c');
    }

    /** The address of {@code a}'s first element (ND4J's addressPointer already includes a view's offset). */
    static Pointer ptr(INDArray a) {
        if (!dense(a)) throw new IllegalArgumentException("not a dense float32 c-order array: " + a.shapeInfoToString());
        return a.data().addressPointer();
    }

    /**
     * {@code a} itself; it must be dense. For an array that holds oneDNN's blocked layout (see
     * {@link NativePath#BLOCKED_PROPERTY}) a copy by ND4J's logical indices would scramble it, so a view is a fault here.
     */
    static INDArray denseBlocked(INDArray a, String what) {
        if (!dense(a)) throw new NativePath.LayoutError(what + " holds a blocked (nChw16c) activation but arrived as a view "
                + a.shapeInfoToString() + "; run with -D" + NativePath.BLOCKED_PROPERTY + "=false");
        return a;
    }

    static memory.desc desc(long[] dims, memory.format_tag tag) {
        return new memory.desc(dims, memory.data_type.f32, tag);
    }

    static memory.desc any(long[] dims) {
        return new memory.desc(dims, memory.data_type.f32, memory.format_tag.any);
    }
}
