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
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.pooling.GlobalPoolingLayer;
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

    /**
     * Activations kept in oneDNN's blocked layout ({@code nChw16c}) between the product's convolutions, BatchNorms and
     * element-wise layers of a ComputationGraph (system property, default true; needs the BatchNorm helper): oneDNN's
     * blocked kernels, Winograd among them, run instead of the channels-last ones. Decided per tensor from the graph
     * ({@link #markBlocked}); DL4J's arrays keep their NHWC shape and only the product's layers read them.
     */
    public static final String BLOCKED_PROPERTY = "sparkvision.native-path.blocked";

    /**
     * The product's own conv layer object in a ComputationGraph (system property, default true): {@link
     * DnnlConvolutionLayer} calls the helper without DL4J's NHWC copies of the input and its activation-cache copy;
     * {@code false} keeps DL4J's layer object around the same helper.
     */
    public static final String CONV_LAYER_PROPERTY = "sparkvision.native-path.conv-layer";

    /**
     * Max/average pooling layers of a ComputationGraph on oneDNN (system property, default true): {@link
     * DnnlSubsamplingLayer} and {@link DnnlGlobalPoolingLayer} in place of DL4J's layer objects, inside blocked regions
     * where their neighbours are; {@code false} keeps DL4J's pooling (libnd4j's loops).
     */
    public static final String POOLING_PROPERTY = "sparkvision.native-path.pooling";

    /**
     * The optimizer step as one pass (system property, default true): Adam, Nesterov and SGD updater blocks also apply
     * their updates to the parameters ({@link io.sparkvision.model.optim.FusedSteps}); needs the JDK's Vector API in the JVM ({@code
     * --add-modules jdk.incubator.vector}, conf/jvm-flags.properties). {@code false} keeps DL4J's updater and step.
     */
    public static final String OPTIMIZER_PROPERTY = "sparkvision.native-path.optimizer";

    /**
     * A blocked activation reached a call that would read it as NHWC. An Error, not an Exception: DL4J's layers catch a
     * helper's exceptions and fall back to their own code, which would compute on scrambled data without a word.
     */
    public static final class LayoutError extends Error {
        private static final long serialVersionUID = 1L;

        LayoutError(String message) {
            super(message);
        }
    }

    /** Which pieces to install (A/B runs switch them one by one). */
    public record Pieces(boolean nchw, boolean batchNorm, boolean relu, boolean fuse, boolean blocked, boolean convLayer, boolean pooling,
                         boolean optimizer) {
        /** Everything, NCHW layers included. */
        public static final Pieces ALL = new Pieces(true, true, true, true, true, true, true, true);

        /** The earlier steps' paths (no pooling): NHWC activations; the product's conv layer object. */
        public Pieces(boolean nchw, boolean batchNorm, boolean relu, boolean fuse) {
            this(nchw, batchNorm, relu, fuse, false);
        }

        /** The product's conv layer object, DL4J's pooling. */
        public Pieces(boolean nchw, boolean batchNorm, boolean relu, boolean fuse, boolean blocked) {
            this(nchw, batchNorm, relu, fuse, blocked, true);
        }

        /** DL4J's pooling and optimizer step (the sixth step's path). */
        public Pieces(boolean nchw, boolean batchNorm, boolean relu, boolean fuse, boolean blocked, boolean convLayer) {
            this(nchw, batchNorm, relu, fuse, blocked, convLayer, false);
        }

        /** DL4J's optimizer step. */
        public Pieces(boolean nchw, boolean batchNorm, boolean relu, boolean fuse, boolean blocked, boolean convLayer, boolean pooling) {
            this(nchw, batchNorm, relu, fuse, blocked, convLayer, pooling, false);
        }

        /** The pieces the system properties select (all but NCHW by default). */
        public static Pieces fromProperties() {
            return new Pieces(Boolean.getBoolean(NCHW_PROPERTY), on(BATCHNORM_PROPERTY), on(RELU_PROPERTY), on(FUSE_PROPERTY),
                    on(BLOCKED_PROPERTY), on(CONV_LAYER_PROPERTY), on(POOLING_PROPERTY), on(OPTIMIZER_PROPERTY));
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
        if (pieces.convLayer() && model instanceof ComputationGraph g) installConvLayers(g);
        if (pieces.pooling() && model instanceof ComputationGraph g) installed += installPooling(g, nchw);
        if (pieces.relu() && model instanceof ComputationGraph g) installed += installRelu(g, pieces.fuse());
        // Only when something was installed now: Spark workers call this after every step (ExampleCounter).
        if (installed > 0 && pieces.blocked() && batchNorm && model instanceof ComputationGraph g) markBlocked(g);
        markInputConvolutions(model);
        // not counted in installed: no layer changes (and Spark workers call this after every step)
        if (pieces.optimizer()) io.sparkvision.model.optim.FusedSteps.install(model);
        return installed;
    }

    /** How a vertex treats the layout of the activations it reads and writes. */
    private enum Role {
        /** The product's conv helper: reads and writes either layout, each side on its own. */
        CONV,
        /** The product's BatchNorm helper: either layout, the same on both sides. */
        BATCH_NORM,
        /** The product's pooling layer: either layout, the same on both sides (other shapes, same channels). */
        POOLING,
        /** The product's global pooling: reads either layout; its [n, c] output is the same bytes in both. */
        GLOBAL_POOLING,
        /** Element by element over same-shaped arrays (ReLU, residual add): any layout, the same on all sides. */
        ELEMENTWISE,
        /** Anything else (DL4J's own layers, inputs, outputs): reads and writes NHWC only. */
        FOREIGN
    }

    /**
     * Decides which activations of the graph are held blocked and tells the helpers. Tensors joined by layout-keeping
     * vertices (BatchNorm, ReLU, add) form one region and share a layout; a region is blocked unless a foreign vertex
     * writes or reads any of its tensors, one of them is a network input or output, or a channel count is not a
     * multiple of 16. A convolution may sit between two regions of different layouts (it reorders that side). In
     * ResNet-50 everything from the first block to the last stage's residual chain is blocked; the stem (its max-pool
     * reads NHWC) and the last stage's residual outputs (global pooling reads them) stay NHWC.
     *
     * @return the number of blocked tensors
     */
    static int markBlocked(ComputationGraph g) {
        GraphVertex[] vertices = g.getVertices();
        int n = vertices.length;
        boolean floats = g.getConfiguration().getDataType() == org.nd4j.linalg.api.buffer.DataType.FLOAT;
        Role[] role = new Role[n];
        int[] region = new int[n];
        for (int i = 0; i < n; i++) {
            role[i] = floats ? role(vertices[i]) : Role.FOREIGN;
            region[i] = i;
        }
        for (int i = 0; i < n; i++) {
            if (role[i] == Role.BATCH_NORM || role[i] == Role.ELEMENTWISE || role[i] == Role.POOLING)
                for (int in : inputs(vertices[i])) union(region, i, in);
        }
        boolean[] plain = new boolean[n]; // per region root: must stay NHWC
        for (int i = 0; i < n; i++) {
            GraphVertex v = vertices[i];
            if (v.isInputVertex() || v.isOutputVertex() || role[i] == Role.FOREIGN || role[i] == Role.GLOBAL_POOLING) plain[find(region, i)] = true;
            if (role[i] == Role.FOREIGN) for (int in : inputs(v)) plain[find(region, in)] = true;
            if (role[i] == Role.CONV) {
                var conf = (org.deeplearning4j.nn.conf.layers.ConvolutionLayer) ((LayerVertex) v).getLayer().conf().getLayer();
                if (conf.getNIn() % 16 != 0) for (int in : inputs(v)) plain[find(region, in)] = true;
                if (conf.getNOut() % 16 != 0) plain[find(region, i)] = true;
            } else if (role[i] == Role.BATCH_NORM) {
                var conf = (org.deeplearning4j.nn.conf.layers.BatchNormalization) ((LayerVertex) v).getLayer().conf().getLayer();
                if (conf.getNOut() % 16 != 0) plain[find(region, i)] = true;
            }
        }
        int blocked = 0;
        for (int i = 0; i < n; i++) {
            boolean mine = !plain[find(region, i)];
            if (role[i] == Role.CONV) {
                int[] in = inputs(vertices[i]);
                ((DnnlConvolutionHelper) convOf(vertices[i]).getHelper()).blocked(in.length == 1 && !plain[find(region, in[0])], mine);
            } else if (role[i] == Role.BATCH_NORM) {
                ((DnnlBatchNormHelper) ((BatchNormalization) ((LayerVertex) vertices[i]).getLayer()).getHelper()).blocked(mine);
            } else if (role[i] == Role.POOLING) {
                ((DnnlSubsamplingLayer) ((LayerVertex) vertices[i]).getLayer()).blocked(mine);
            } else if (role[i] == Role.GLOBAL_POOLING) {
                int[] in = inputs(vertices[i]);
                ((DnnlGlobalPoolingLayer) ((LayerVertex) vertices[i]).getLayer()).blocked(in.length == 1 && !plain[find(region, in[0])]);
            }
            if (mine) blocked++;
        }
        return blocked;
    }

    private static Role role(GraphVertex v) {
        if (v instanceof LayerVertex lv && lv.getLayerPreProcessor() == null) {
            Layer l = lv.getLayer();
            if (plainConv(l) && ((ConvolutionLayer) l).getHelper() instanceof DnnlConvolutionHelper) {
                var c = (org.deeplearning4j.nn.conf.layers.ConvolutionLayer) l.conf().getLayer();
                boolean plainConv = (c.getConvolutionMode() == org.deeplearning4j.nn.conf.ConvolutionMode.Truncate
                        || c.getConvolutionMode() == org.deeplearning4j.nn.conf.ConvolutionMode.Strict)
                        && c.getDilation()[0] == 1 && c.getDilation()[1] == 1
                        && c.getCnn2dDataFormat() == org.deeplearning4j.nn.conf.CNN2DFormat.NHWC
                        && elementwise(c.getActivationFn()) && lv.getInputVertices() != null && lv.getInputVertices().length == 1;
                return plainConv ? Role.CONV : Role.FOREIGN;
            }
            if (l.getClass() == BatchNormalization.class && ((BatchNormalization) l).getHelper() instanceof DnnlBatchNormHelper) {
                var b = (org.deeplearning4j.nn.conf.layers.BatchNormalization) l.conf().getLayer();
                return b.getCnn2DFormat() == org.deeplearning4j.nn.conf.CNN2DFormat.NHWC && !b.isLockGammaBeta() ? Role.BATCH_NORM : Role.FOREIGN;
            }
            if (l instanceof DnnlReluLayer) return Role.ELEMENTWISE;
            if (l instanceof DnnlSubsamplingLayer) {
                var c = (org.deeplearning4j.nn.conf.layers.SubsamplingLayer) l.conf().getLayer();
                return c.getCnn2dDataFormat() == org.deeplearning4j.nn.conf.CNN2DFormat.NHWC && lv.getInputVertices() != null
                        && lv.getInputVertices().length == 1 ? Role.POOLING : Role.FOREIGN;
            }
            if (l instanceof DnnlGlobalPoolingLayer p && p.channelsLast() && lv.getInputVertices() != null && lv.getInputVertices().length == 1)
                return Role.GLOBAL_POOLING;
            if (l.getClass() == ActivationLayer.class
                    && elementwise(((org.deeplearning4j.nn.conf.layers.ActivationLayer) l.conf().getLayer()).getActivationFn())) {
                return Role.ELEMENTWISE;
            }
            return Role.FOREIGN;
        }
        if (v.getClass() == ElementWiseVertex.class || v instanceof DnnlAddReluVertex) return Role.ELEMENTWISE;
        return Role.FOREIGN;
    }

    /** Activations computed value by value (a softmax, for one, reads across channels). */
    private static boolean elementwise(org.nd4j.linalg.activations.IActivation a) {
        return a instanceof org.nd4j.linalg.activations.impl.ActivationIdentity || a instanceof org.nd4j.linalg.activations.impl.ActivationReLU;
    }

    private static ConvolutionLayer convOf(GraphVertex v) {
        return (ConvolutionLayer) ((LayerVertex) v).getLayer();
    }

    private static int[] inputs(GraphVertex v) {
        if (v.getInputVertices() == null) return new int[0];
        int[] in = new int[v.getInputVertices().length];
        for (int i = 0; i < in.length; i++) in[i] = v.getInputVertices()[i].getVertexIndex();
        return in;
    }

    private static int find(int[] region, int i) {
        while (region[i] != i) i = region[i] = region[region[i]];
        return i;
    }

    private static void union(int[] region, int a, int b) {
        region[find(region, a)] = find(region, b);
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

    /**
     * Puts {@link DnnlSubsamplingLayer} in place of each DL4J pooling layer object (exact class) whose configuration
     * oneDNN computes, and {@link DnnlGlobalPoolingLayer} in place of each 2-D max/average global pooling layer.
     */
    private static int installPooling(ComputationGraph g, boolean nchw) {
        int n = 0;
        for (GraphVertex v : g.getVertices()) {
            if (!(v instanceof LayerVertex lv) || lv.getLayerPreProcessor() != null) continue;
            Layer l = lv.getLayer();
            if (l.getClass() == SubsamplingLayer.class
                    && DnnlSubsamplingLayer.supported((org.deeplearning4j.nn.conf.layers.SubsamplingLayer) l.conf().getLayer())) {
                replaceLayer(g, lv, l, new DnnlSubsamplingLayer((SubsamplingLayer) l, nchw));
                n++;
            } else if (l.getClass() == GlobalPoolingLayer.class
                    && DnnlGlobalPoolingLayer.supported((org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer) l.conf().getLayer())) {
                replaceLayer(g, lv, l, new DnnlGlobalPoolingLayer((GlobalPoolingLayer) l, nchw));
                n++;
            }
        }
        return n;
    }

    /** Puts {@link DnnlConvolutionLayer} in place of each DL4J conv layer object that runs the product's helper. */
    private static void installConvLayers(ComputationGraph g) {
        for (GraphVertex v : g.getVertices()) {
            if (v instanceof LayerVertex lv && lv.getLayer().getClass() == ConvolutionLayer.class
                    && ((ConvolutionLayer) lv.getLayer()).getHelper() instanceof DnnlConvolutionHelper) {
                ConvolutionLayer old = (ConvolutionLayer) lv.getLayer();
                replaceLayer(g, lv, old, new DnnlConvolutionLayer(old));
            }
        }
    }

    /** DL4J's plain conv layer, or the product's object in its place (not the subclasses that compute something else). */
    static boolean plainConv(Layer l) {
        return l.getClass() == ConvolutionLayer.class || l instanceof DnnlConvolutionLayer;
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
            if (plainConv(l) && ((ConvolutionLayer) l).getHelper() instanceof DnnlConvolutionHelper
                    || l.getClass() == BatchNormalization.class && ((BatchNormalization) l).getHelper() instanceof DnnlBatchNormHelper
                    || l instanceof DnnlReluLayer || l instanceof DnnlSubsamplingLayer || l instanceof DnnlGlobalPoolingLayer) n++;
        return n;
    }

    /** Puts back the helper DL4J itself picks (its layer's own initializeHelper): DL4J's path, for A/B runs and tests. */
    public static void uninstall(Model model) {
        io.sparkvision.model.optim.FusedSteps.uninstall(model);
        if (model instanceof ComputationGraph g) {
            for (GraphVertex v : g.getVertices().clone()) {
                if (v instanceof LayerVertex lv && lv.getLayer() instanceof DnnlReluLayer r) {
                    r.original().setListeners(r.getListeners());
                    replaceLayer(g, lv, r, r.original());
                }
                if (v instanceof DnnlAddReluVertex a) replaceVertex(g, a, a.original());
                if (v instanceof LayerVertex lv && lv.getLayer() instanceof DnnlConvolutionLayer c) replaceLayer(g, lv, c, c.restoreOriginal());
                if (v instanceof LayerVertex lv && lv.getLayer() instanceof DnnlSubsamplingLayer p) replaceLayer(g, lv, p, p.restoreOriginal());
                if (v instanceof LayerVertex lv && lv.getLayer() instanceof DnnlGlobalPoolingLayer p) replaceLayer(g, lv, p, p.restoreOriginal());
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
