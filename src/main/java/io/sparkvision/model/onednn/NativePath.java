package io.sparkvision.model.onednn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.lang.reflect.Field;

/**
 * Installs the product's own oneDNN helpers ({@link DnnlConvolutionHelper}, {@link DnnlBatchNormHelper}) into a built network's layers. DL4J M2.1
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

    /** Installs the helpers when {@link #enabled()}; returns how many layers got one. */
    public static int install(Model model) {
        return enabled() ? install(model, Boolean.getBoolean(NCHW_PROPERTY),
                Boolean.parseBoolean(System.getProperty(BATCHNORM_PROPERTY, "true"))) : 0;
    }

    /** Installs regardless of the switch, NCHW layers included (tests, A/B runs); needs {@link Dnnl#available()}. */
    public static int installAlways(Model model) {
        return install(model, true, true);
    }

    /** As {@link #installAlways(Model)}, BatchNorm layers only when {@code batchNorm} (A/B runs against the conv-only path). */
    public static int installAlways(Model model, boolean batchNorm) {
        return install(model, true, batchNorm);
    }

    private static int install(Model model, boolean nchw, boolean batchNorm) {
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
        return installed;
    }

    /** How many layers run one of the product's helpers now. */
    public static int installed(Model model) {
        Layer[] layers = layers(model);
        int n = 0;
        for (Layer l : layers)
            if (l.getClass() == ConvolutionLayer.class && ((ConvolutionLayer) l).getHelper() instanceof DnnlConvolutionHelper
                    || l.getClass() == BatchNormalization.class && ((BatchNormalization) l).getHelper() instanceof DnnlBatchNormHelper) n++;
        return n;
    }

    /** Puts back the helper DL4J itself picks (its layer's own initializeHelper): DL4J's path, for A/B runs and tests. */
    public static void uninstall(Model model) {
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
