package io.sparkvision.model.onednn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.lang.reflect.Field;

/**
 * Installs the product's own oneDNN helpers ({@link DnnlConvolutionHelper}) into a built network's layers. DL4J M2.1
 * picks a layer's helper in the layer's constructor and offers no setter, so the field is set by reflection (as
 * DL4J's own tests do). Call after every {@code init()}, restore or clone: those rebuild the layers.
 *
 * <p>On by default on ND4J's CPU backend; {@code -Dsparkvision.native-path=false} switches it off (DL4J's own path,
 * which the product configures to use libnd4j's oneDNN helpers), and it never installs on CUDA (cuDNN stays).
 */
public final class NativePath {
    private NativePath() {
    }

    /** The JVM-wide switch (system property {@code sparkvision.native-path}, default true). */
    public static final String PROPERTY = "sparkvision.native-path";

    public static boolean enabled() {
        return Boolean.parseBoolean(System.getProperty(PROPERTY, "true")) && Dnnl.available();
    }

    /** Installs the helpers when {@link #enabled()}; returns how many layers got one. */
    public static int install(Model model) {
        return enabled() ? installAlways(model) : 0;
    }

    /** Installs regardless of the switch (tests compare both paths in one JVM); needs {@link Dnnl#available()}. */
    public static int installAlways(Model model) {
        Layer[] layers = model instanceof ComputationGraph g ? g.getLayers()
                : model instanceof MultiLayerNetwork n ? n.getLayers() : new Layer[0];
        int installed = 0;
        for (Layer l : layers) {
            // Exactly ConvolutionLayer: its subclasses (depthwise, separable, deconvolution) compute something else.
            if (l.getClass() == ConvolutionLayer.class) {
                ConvolutionLayer conv = (ConvolutionLayer) l;
                if (conv.getHelper() instanceof DnnlConvolutionHelper) continue; // already installed
                set(l, ConvolutionLayer.class, new DnnlConvolutionHelper((ConvolutionHelper) conv.getHelper()));
                installed++;
            }
        }
        return installed;
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
