package io.sparkvision.model.onednn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.impl.ElementWiseVertex;
import org.deeplearning4j.nn.graph.vertex.impl.LayerVertex;
import org.deeplearning4j.nn.layers.ActivationLayer;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.lang.reflect.Field;

/**
 * Installs the product's own oneDNN helpers ({@link DnnlConvolutionHelper}, {@link DnnlBatchNormHelper}) into a built
 * network's layers, and in a ComputationGraph the ReLU pieces ({@link DnnlReluLayer}, BatchNorm + ReLU fused,
 * {@link DnnlAddReluVertex}) in place of DL4J's layer/vertex objects (the configuration stays DL4J's). DL4J M2.1
 * picks a layer's helper in the layer's constructor and offers no setter, so the field is set by reflection (as
 * DL4J's own tests do). Call after every {@code init()}, restore or clone: those rebuild the layers.
 *
 * <p>On by default for channels-last (NHWC) conv layers, the ResNet family, where it was measured faster (1.40x DL4J's
 * path side by side, docs/native-path.md); NCHW layers only with {@code -Dsparkvision.native-path.nchw=true} (not
 * measured yet). {@code -Dsparkvision.native-path=false} switches it off: DL4J's own path, which the product
 * configures to use libnd4j's oneDNN helpers. It never installs on CUDA (cuDNN stays).
 */
public final class NativePath {
    private NativePath() {
    }

    /** The JVM-wide switch (system property {@code sparkvision.native-path}, default true). */
    public static final String PROPERTY = "sparkvision.native-path";

    public static boolean enabled() {
        return Boolean.parseBoolean(System.getProperty(PROPERTY, "true")) && Dnnl.available();
    }

    /** Also NCHW layers (the stacks: LeNet, AlexNet, VGG), not only channels-last ones; not measured faster yet. */
    public static final String NCHW_PROPERTY = "sparkvision.native-path.nchw";

    /**
     * BatchNorm layers too (system property, default true): {@code false} leaves them on DL4J's helper, the conv-only
     * path of the first step (for A/B runs).
     */
    public static final String BATCHNORM_PROPERTY = "sparkvision.native-path.batchnorm";

    /**
     * ReLU layers of a ComputationGraph too (system property, default true): {@link DnnlReluLayer}, one oneDNN pass each
     * way instead of DL4J's copy + ReLU; {@code false} leaves them (and the fusions) on DL4J's code.
     */
    public static final String RELU_PROPERTY = "sparkvision.native-path.relu";

    /**
     * ReLU fused into its producer (system property, default true; needs the ReLU layers): a BatchNorm or a residual
     * add whose only consumer is a plain ReLU layer applies ReLU in its own pass (oneDNN's {@code fuse_norm_relu}, a
     * binary add with a ReLU post-op) and the ReLU layer passes it through.
     */
    public static final String FUSE_PROPERTY = "sparkvision.native-path.fuse";

    /** Which pieces to install (A/B runs switch them one by one). */
    public record Pieces(boolean nchw, boolean batchNorm, boolean relu, boolean fuse) {
        /** Everything, NCHW layers included. */
        public static final Pieces ALL = new Pieces(true, true, true, true);

        /** The pieces the system properties select (all but NCHW by default). */
        public static Pieces fromProperties() {
            return new Pieces(Boolean.getBoolean(NCHW_PROPERTY), on(BATCHNORM_PROPERTY), on(RELU_PROPERTY), on(FUSE_PROPERTY));
        }

        private static boolean on(String property) {
            return Boolean.parseBoolean(System.getProperty(property, "true"));
        }
    }

    /** Installs the helpers when {@link #enabled()}; returns how many layers/vertices got the product's code. */
    public static int install(Model model) {
        return enabled() ? install(model, Pieces.fromProperties()) : 0;
    }

    /** Installs regardless of the switch, NCHW layers included (tests, A/B runs); needs {@link Dnnl#available()}. */
    public static int installAlways(Model model) {
        return install(model, Pieces.ALL);
    }

    /** Conv, and BatchNorm when {@code batchNorm}, no ReLU pieces (the first and second steps' paths, for A/B runs and tests). */
    public static int installAlways(Model model, boolean batchNorm) {
        return install(model, new Pieces(true, batchNorm, false, false));
    }

    /** Installs the given pieces regardless of the switch; needs {@link Dnnl#available()}. */
    public static int install(Model model, Pieces pieces) {
        boolean nchw = pieces.nchw(), batchNorm = pieces.batchNorm();
        Layer[] layers = layers(model);
        int installed = 0;
        for (Layer l : layers) {
            // Exactly ConvolutionLayer: its subclasses (depthwise, separable, deconvolution) compute something else.
            if (l.getClass() == ConvolutionLayer.class) {
                ConvolutionLayer conv = (ConvolutionLayer) l;
                if (conv.getHelper() instanceof DnnlConvolutionHelper) continue; // already installed
                set(l, ConvolutionLayer.class, new DnnlConvolutionHelper((ConvolutionHelper) conv.getHelper(), nchw));
                installed++;
            } else if (batchNorm && l.getClass() == BatchNormalization.class) {
                BatchNormalization bn = (BatchNormalization) l;
                if (bn.getHelper() instanceof DnnlBatchNormHelper) continue;
                set(l, BatchNormalization.class, new DnnlBatchNormHelper((BatchNormalizationHelper) bn.getHelper(), nchw));
                installed++;
            }
        }
        if (pieces.relu() && model instanceof ComputationGraph g) installed += installRelu(g, pieces.fuse());
        markInputConvolutions(model);
        return installed;
    }

    /**
     * Tells the helper of each convolution that sees the network's input (directly or through parameter-free layers
     * only) that its input gradient is never used, so its backprop skips oneDNN's backward-data pass: PyTorch does not
     * compute it either (the image does not require a gradient). ResNet's 3-channel 7x7 stem at 224² costs about as
     * much backward-data as forward.
     */
    private static void markInputConvolutions(Model model) {
        if (model instanceof ComputationGraph g) {
            GraphVertex[] vertices = g.getVertices();
            boolean[] gradientFree = new boolean[vertices.length];
            for (int i : g.topologicalSortOrder()) {
                GraphVertex v = vertices[i];
                boolean inputsFree = v.getInputVertices() != null && v.getInputVertices().length > 0;
                if (inputsFree) for (var in : v.getInputVertices()) inputsFree &= gradientFree[in.getVertexIndex()];
                if (v.isInputVertex()) gradientFree[i] = true;
                else if (inputsFree && v.numParams() == 0) gradientFree[i] = true;
                if (inputsFree && v instanceof LayerVertex lv && lv.getLayer() instanceof ConvolutionLayer conv
                        && conv.getHelper() instanceof DnnlConvolutionHelper h) {
                    h.inputGradientUnused(true);
                }
            }
        } else if (model instanceof MultiLayerNetwork net) {
            for (Layer l : net.getLayers()) {
                if (l instanceof ConvolutionLayer conv && conv.getHelper() instanceof DnnlConvolutionHelper h) h.inputGradientUnused(true);
                if (l.numParams() > 0) break;
            }
        }
    }

    /**
     * Replaces every plain ReLU {@code ActivationLayer} (exact class, no preprocessor) with {@link DnnlReluLayer}; with
     * {@code fuse}, where its input vertex feeds nothing else and is a BatchNorm on {@link DnnlBatchNormHelper} (identity
     * activation) or a two-input residual add, that producer applies ReLU itself. The graph's configuration is not
     * touched: only the built graph's layer/vertex objects change (DL4J offers no other hook for these).
     */
    private static int installRelu(ComputationGraph g, boolean fuse) {
        GraphVertex[] vertices = g.getVertices();
        int n = 0;
        for (GraphVertex v : vertices) {
            if (!(v instanceof LayerVertex lv) || lv.getLayer().getClass() != ActivationLayer.class || lv.getLayerPreProcessor() != null
                    || !DnnlReluLayer.plainRelu((ActivationLayer) lv.getLayer()) || lv.getInputVertices() == null || lv.getInputVertices().length != 1)
                continue;
            ReluSource source = null;
            GraphVertex producer = vertices[lv.getInputVertices()[0].getVertexIndex()];
            boolean onlyConsumer = producer.getOutputVertices() != null && producer.getOutputVertices().length == 1 && !producer.isOutputVertex();
            if (fuse && onlyConsumer) {
                if (producer instanceof LayerVertex pv && pv.getLayerPreProcessor() == null
                        && pv.getLayer().getClass() == BatchNormalization.class
                        && ((BatchNormalization) pv.getLayer()).getHelper() instanceof DnnlBatchNormHelper h) {
                    // (DL4J's BatchNormalization layer never applies its configured activation: nothing to check there)
                    h.fuseRelu(true);
                    source = h;
                } else if (producer.getClass() == ElementWiseVertex.class && producer.getInputVertices() != null
                        && producer.getInputVertices().length == 2 && op((ElementWiseVertex) producer) == ElementWiseVertex.Op.Add) {
                    DnnlAddReluVertex add = new DnnlAddReluVertex((ElementWiseVertex) producer);
                    replaceVertex(g, producer, add);
                    source = add;
                }
            }
            ActivationLayer old = (ActivationLayer) lv.getLayer();
            replaceLayer(g, lv, old, new DnnlReluLayer(old, source));
            n++;
        }
        return n;
    }

    private static ElementWiseVertex.Op op(ElementWiseVertex v) {
        try {
            Field f = ElementWiseVertex.class.getDeclaredField("op");
            f.setAccessible(true);
            return (ElementWiseVertex.Op) f.get(v);
        } catch (ReflectiveOperationException e) {
            return null; // DL4J changed: no fusion, DL4J's add runs
        }
    }

    private static void replaceLayer(ComputationGraph g, LayerVertex lv, Layer old, Layer replacement) {
        lv.setLayer(replacement);
        Layer[] layers = g.getLayers(); // the graph's own array
        for (int i = 0; i < layers.length; i++) if (layers[i] == old) layers[i] = replacement;
    }

    @SuppressWarnings("unchecked")
    private static void replaceVertex(ComputationGraph g, GraphVertex old, GraphVertex replacement) {
        g.getVertices()[old.getVertexIndex()] = replacement; // the graph's own array
        try {
            Field f = ComputationGraph.class.getDeclaredField("verticesMap");
            f.setAccessible(true);
            ((java.util.Map<String, GraphVertex>) f.get(g)).put(old.getVertexName(), replacement);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("DL4J's ComputationGraph no longer has verticesMap; run with -D" + FUSE_PROPERTY + "=false", e);
        }
    }

    /** How many layers run one of the product's helpers now. */
    public static int installed(Model model) {
        Layer[] layers = layers(model);
        int n = 0;
        for (Layer l : layers)
            if (l.getClass() == ConvolutionLayer.class && ((ConvolutionLayer) l).getHelper() instanceof DnnlConvolutionHelper
                    || l.getClass() == BatchNormalization.class && ((BatchNormalization) l).getHelper() instanceof DnnlBatchNormHelper
                    || l instanceof DnnlReluLayer) n++;
        return n;
    }

    /** Puts back the helper DL4J itself picks (its layer's own initializeHelper): DL4J's path, for A/B runs and tests. */
    public static void uninstall(Model model) {
        if (model instanceof ComputationGraph g) {
            for (GraphVertex v : g.getVertices().clone()) {
                if (v instanceof LayerVertex lv && lv.getLayer() instanceof DnnlReluLayer r) {
                    r.original().setListeners(r.getListeners());
                    replaceLayer(g, lv, r, r.original());
                }
                if (v instanceof DnnlAddReluVertex a) replaceVertex(g, a, a.original());
            }
        }
        Layer[] layers = layers(model);
        for (Layer l : layers)
            if (l.getClass() == ConvolutionLayer.class || l.getClass() == BatchNormalization.class) {
                try {
                    var init = l.getClass().getDeclaredMethod("initializeHelper");
                    init.setAccessible(true);
                    init.invoke(l);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("DL4J's " + l.getClass().getSimpleName() + ".initializeHelper() is gone", e);
                }
            }
    }

    private static Layer[] layers(Model model) {
        return model instanceof ComputationGraph g ? g.getLayers() : model instanceof MultiLayerNetwork n ? n.getLayers() : new Layer[0];
    }

    private static void set(Layer l, Class<?> type, Object helper) {
        try {
            Field f = type.getDeclaredField("helper");
            f.setAccessible(true);
            f.set(l, helper);
            Field fails = type.getDeclaredField("helperCountFail");
            fails.setAccessible(true);
            fails.setInt(l, 0);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("DL4J's " + type.getSimpleName() + " no longer has the helper field this "
                    + "product sets; run with -D" + PROPERTY + "=false", e);
        }
    }
}
