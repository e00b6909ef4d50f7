package io.sparkvision.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The first conv layer's kernels as a picture (as in the AlexNet paper's Figure 3): one tile per output channel,
 * RGB for 3 input channels, grey for 1 (and the mean over channels otherwise). Each kernel is min-max normalised
 * on its own, across its channels, so colour balance within a kernel is kept, and scaled up by nearest-neighbour
 * so an 11x11 kernel is visible.
 */
public final class FilterImage {
    public static final int GAP = 2;

    private FilterImage() {
    }

    /** The first layer with a standard convolution's weights, in forward order. */
    public static Layer firstConv(Model model) {
        List<Layer> layers = model instanceof MultiLayerNetwork m ? Arrays.asList(m.getLayers())
                : topological((ComputationGraph) model);
        for (Layer l : layers) {
            if (l.conf().getLayer() instanceof ConvolutionLayer && l.getParam(ConvolutionParamInitializer.WEIGHT_KEY) != null
                    && !(l.conf().getLayer() instanceof DepthwiseConvolution2D)) {
                return l;
            }
        }
        throw new IllegalArgumentException("the model has no convolution layer");
    }

    private static List<Layer> topological(ComputationGraph g) {
        List<Layer> out = new ArrayList<>();
        for (int i : g.topologicalSortOrder()) {
            if (g.getVertices()[i].hasLayer()) out.add(g.getVertices()[i].getLayer());
        }
        return out;
    }

    /** Pixels per kernel weight: at least 4, and enough that each tile is about 48 pixels wide. */
    public static int scaleFor(int kernel) {
        return Math.max(4, (int) Math.ceil(48.0 / kernel));
    }

    /** A near-square grid: columns = ceil(sqrt(n)), rows = ceil(n / columns). */
    public static int[] grid(int kernels) {
        int cols = (int) Math.ceil(Math.sqrt(kernels));
        return new int[] {(kernels + cols - 1) / cols, cols};
    }

    public static BufferedImage render(Model model) {
        INDArray w = firstConv(model).getParam(ConvolutionParamInitializer.WEIGHT_KEY); // [out, in, kH, kW]
        int n = (int) w.size(0), channels = (int) w.size(1), kh = (int) w.size(2), kw = (int) w.size(3);
        int scale = scaleFor(Math.max(kh, kw));
        int[] g = grid(n);
        int tileW = kw * scale, tileH = kh * scale;
        BufferedImage img = new BufferedImage(g[1] * (tileW + GAP) + GAP, g[0] * (tileH + GAP) + GAP, BufferedImage.TYPE_INT_RGB);
        Graphics2D gr = img.createGraphics();
        gr.setColor(Color.WHITE);
        gr.fillRect(0, 0, img.getWidth(), img.getHeight());
        gr.dispose();
        for (int k = 0; k < n; k++) {
            float[] v = w.slice(k).dup().data().asFloat(); // [in, kH, kW], row-major
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
            for (float f : v) {
                min = Math.min(min, f);
                max = Math.max(max, f);
            }
            float range = max > min ? max - min : 1f;
            int x0 = GAP + (k % g[1]) * (tileW + GAP), y0 = GAP + (k / g[1]) * (tileH + GAP);
            for (int y = 0; y < kh; y++) {
                for (int x = 0; x < kw; x++) {
                    int r, gg, b;
                    if (channels == 3) {
                        r = level(v[(0 * kh + y) * kw + x], min, range);
                        gg = level(v[(1 * kh + y) * kw + x], min, range);
                        b = level(v[(2 * kh + y) * kw + x], min, range);
                    } else {
                        float s = 0;
                        for (int c = 0; c < channels; c++) s += v[(c * kh + y) * kw + x];
                        // grey: the channel mean, which lies within the kernel's [min, max]
                        r = gg = b = level(s / channels, min, range);
                    }
                    int rgb = (r << 16) | (gg << 8) | b;
                    for (int dy = 0; dy < scale; dy++) {
                        for (int dx = 0; dx < scale; dx++) img.setRGB(x0 + x * scale + dx, y0 + y * scale + dy, rgb);
                    }
                }
            }
        }
        return img;
    }

    private static int level(float value, float min, float range) {
        return Math.max(0, Math.min(255, Math.round((value - min) / range * 255f)));
    }
}
