package io.sparkvision.model.onnx;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static io.sparkvision.model.onnx.OnnxExportGraph.attr;
import static io.sparkvision.model.onnx.OnnxExportGraph.ints;

/**
 * One DL4J layer (or input preprocessor) as ONNX nodes. Every 4-D tensor of the ONNX graph is NCHW, whatever layout
 * the DL4J layer computes in (the product's ResNets run channels-last inside DL4J, model.NchwToNhwc): the layout only
 * shows where DL4J flattens feature maps, so it matters only in {@link #preprocess}. Parameters keep DL4J's layouts
 * where ONNX's are the same (conv [out, in, kh, kw], dense [nIn, nOut] = Gemm's B without transB).
 */
final class OnnxExportLayers {
    private OnnxExportLayers() {
    }

    /**
     * The layer's output tensor, and the tensor that went into its softmax when its activation is one (the
     * network's logits when this is the output layer).
     */
    record Out(String tensor, String beforeSoftmax) {
    }

    static Out convert(OnnxExportGraph g, String name, Layer layer, InputType in, String x) {
        org.deeplearning4j.nn.conf.layers.Layer c = layer.conf().getLayer();
        Class<?> type = c.getClass();
        if (type == ConvolutionLayer.class) return activate(g, name, c, conv(g, name, (ConvolutionLayer) c, layer, in, x));
        if (type == DepthwiseConvolution2D.class) return activate(g, name, c, depthwise(g, name, (DepthwiseConvolution2D) c, layer, in, x));
        if (type == SubsamplingLayer.class) return new Out(pool(g, name, (SubsamplingLayer) c, in, x), null);
        // DL4J's BatchNormalization layer returns its normalised output as is: the activation its configuration
        // inherits (sigmoid by default) is never applied, so none is exported.
        if (type == BatchNormalization.class) return new Out(batchNorm(g, name, (BatchNormalization) c, layer, x), null);
        if (type == ActivationLayer.class) return activate(g, name, c, x);
        if (type == DenseLayer.class || type == OutputLayer.class) return activate(g, name, c, gemm(g, name, c, layer, in, x));
        if (type == LossLayer.class) return activate(g, name, c, x);
        if (type == GlobalPoolingLayer.class) return new Out(globalPool(g, name, (GlobalPoolingLayer) c, in, x), null);
        if (type == LocalResponseNormalization.class) return new Out(lrn(g, name, (LocalResponseNormalization) c, x), null);
        if (type == Upsampling2D.class) return new Out(upsample(g, name, (Upsampling2D) c, x), null);
        if (type == DropoutLayer.class) return new Out(x, null); // dropout is the identity at inference
        throw OnnxExporter.notExportable(name, type.getSimpleName(), "no ONNX mapping for this layer type; exportable: "
                + "ConvolutionLayer, DepthwiseConvolution2D, SubsamplingLayer, BatchNormalization, ActivationLayer, DenseLayer, "
                + "OutputLayer, LossLayer, GlobalPoolingLayer, LocalResponseNormalization, Upsampling2D, DropoutLayer");
    }

    /** An input preprocessor in front of a layer or as a graph vertex. */
    static String preprocess(OnnxExportGraph g, String name, InputPreProcessor p, String x) {
        if (p == null || p instanceof io.sparkvision.model.NchwToNhwc) return x; // the ONNX graph stays NCHW
        if (p instanceof CnnToFeedForwardPreProcessor f) {
            // DL4J flattens each example in C order over its own layout: [c, h, w] for NCHW, [h, w, c] for NHWC.
            String y = f.getFormat() == CNN2DFormat.NHWC ? g.node("Transpose", name + ".nhwc", x, ints("perm", 0, 2, 3, 1)) : x;
            return g.node("Flatten", name + ".flatten", y, attr("axis", 1L));
        }
        throw OnnxExporter.notExportable(name, p.getClass().getSimpleName() + " (input preprocessor)",
                "only CnnToFeedForwardPreProcessor and NchwToNhwc have an ONNX mapping");
    }

    private static String conv(OnnxExportGraph g, String name, ConvolutionLayer c, Layer layer, InputType in, String x) {
        INDArray w = layer.getParam("W");
        if (w.rank() != 4 || w.size(0) != c.getNOut() || w.size(1) != c.getNIn()) {
            throw OnnxExporter.notExportable(name, "ConvolutionLayer", "weights of shape " + java.util.Arrays.toString(w.shape())
                    + ", expected [nOut, nIn, kH, kW]");
        }
        String wt = g.weights(name + ".W", w, w.shape());
        String[] inputs = c.hasBias() ? new String[] {x, wt, g.weights(name + ".b", layer.getParam("b"), c.getNOut())} : new String[] {x, wt};
        int[] k = c.getKernelSize();
        return g.node("Conv", name + ".conv", inputs, ints("kernel_shape", k[0], k[1]),
                ints("strides", c.getStride()[0], c.getStride()[1]), ints("dilations", c.getDilation()[0], c.getDilation()[1]),
                ints("pads", pads(name, c.getConvolutionMode(), in, k, c.getStride(), c.getPadding(), c.getDilation())),
                attr("group", 1L));
    }

    /** DL4J's depthwise weights are [kH, kW, nIn, multiplier]; ONNX's grouped Conv wants [nIn * multiplier, 1, kH, kW]. */
    private static String depthwise(OnnxExportGraph g, String name, DepthwiseConvolution2D c, Layer layer, InputType in, String x) {
        INDArray w = layer.getParam("W");
        long nIn = c.getNIn(), m = c.getDepthMultiplier();
        int[] k = c.getKernelSize();
        if (w.rank() != 4 || w.size(2) != nIn || w.size(3) != m) {
            throw OnnxExporter.notExportable(name, "DepthwiseConvolution2D", "weights of shape " + java.util.Arrays.toString(w.shape())
                    + ", expected [kH, kW, nIn, depthMultiplier]");
        }
        // Output channel i * m + j of DL4J is input channel i's j-th filter, which is ONNX's group order.
        String wt = g.weights(name + ".W", w.permute(2, 3, 0, 1), nIn * m, 1, k[0], k[1]);
        String[] inputs = c.hasBias() ? new String[] {x, wt, g.weights(name + ".b", layer.getParam("b"), nIn * m)} : new String[] {x, wt};
        return g.node("Conv", name + ".conv", inputs, ints("kernel_shape", k[0], k[1]),
                ints("strides", c.getStride()[0], c.getStride()[1]), ints("dilations", c.getDilation()[0], c.getDilation()[1]),
                ints("pads", pads(name, c.getConvolutionMode(), in, k, c.getStride(), c.getPadding(), c.getDilation())),
                attr("group", nIn));
    }

    private static String pool(OnnxExportGraph g, String name, SubsamplingLayer c, InputType in, String x) {
        int[] k = c.getKernelSize(), s = c.getStride(), d = c.getDilation();
        if (d[0] != 1 || d[1] != 1) throw OnnxExporter.notExportable(name, "SubsamplingLayer", "dilated pooling");
        long[] pads = pads(name, c.getConvolutionMode(), in, k, s, c.getPadding(), d);
        if (c.getPoolingType() == PoolingType.MAX) {
            // Padding never wins a max in either runtime (libnd4j and ONNX both skip padded cells).
            return g.node("MaxPool", name, x, ints("kernel_shape", k[0], k[1]), ints("strides", s[0], s[1]), ints("pads", pads));
        }
        if (c.getPoolingType() == PoolingType.AVG) {
            return g.node("AveragePool", name, x, ints("kernel_shape", k[0], k[1]), ints("strides", s[0], s[1]), ints("pads", pads),
                    attr("count_include_pad", c.isAvgPoolIncludePadInDivisor() ? 1L : 0L));
        }
        throw OnnxExporter.notExportable(name, "SubsamplingLayer", c.getPoolingType() + " pooling (only MAX and AVG map to ONNX)");
    }

    /**
     * ONNX pads [top, left, bottom, right]. Truncate (and Strict) pad symmetrically by the layer's padding and floor the
     * output size, as ONNX does; Same ignores the padding and pads what ceil(in / stride) outputs need, the odd pixel
     * at the bottom/right (DL4J's ConvolutionUtils.getSameModeTopLeftPadding), so ONNX gets it explicitly.
     */
    static long[] pads(String name, ConvolutionMode mode, InputType in, int[] k, int[] s, int[] p, int[] d) {
        if (mode == ConvolutionMode.Truncate || mode == ConvolutionMode.Strict) return new long[] {p[0], p[1], p[0], p[1]};
        if (mode != ConvolutionMode.Same) {
            throw OnnxExporter.notExportable(name, "convolution mode " + mode, "only Truncate, Strict and Same map to ONNX pads");
        }
        InputType.InputTypeConvolutional t = (InputType.InputTypeConvolutional) in;
        long[] size = {t.getHeight(), t.getWidth()};
        long[] pads = new long[4];
        for (int i = 0; i < 2; i++) {
            long effective = (long) (k[i] - 1) * d[i] + 1;
            long out = (size[i] + s[i] - 1) / s[i];
            long total = Math.max(0, (out - 1) * s[i] + effective - size[i]);
            pads[i] = total / 2;
            pads[i + 2] = total - total / 2;
        }
        return pads;
    }

    /**
     * Inference-mode BatchNorm with DL4J's eps. DL4J keeps either the variance or (useLogStd, its default) log10 of
     * sqrt(variance), eps added at use in both cases (layers.normalization.BatchNormalization.preOutput); ONNX wants the
     * variance: 10^(2 log10 s), computed in double.
     */
    private static String batchNorm(OnnxExportGraph g, String name, BatchNormalization c, Layer layer, String x) {
        long n = c.getNOut();
        INDArray gamma = c.isLockGammaBeta() ? Nd4j.valueArrayOf(n, c.getGamma()) : layer.getParam(BatchNormalizationParamInitializer.GAMMA);
        INDArray beta = c.isLockGammaBeta() ? Nd4j.valueArrayOf(n, c.getBeta()) : layer.getParam(BatchNormalizationParamInitializer.BETA);
        INDArray mean = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN);
        INDArray var;
        if (c.isUseLogStd()) {
            double[] logStd = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD).castTo(DataType.DOUBLE).dup('c').data().asDouble();
            double[] v = new double[logStd.length];
            for (int i = 0; i < v.length; i++) v[i] = Math.pow(10, 2 * logStd[i]);
            var = Nd4j.createFromArray(v);
        } else {
            var = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR);
        }
        return g.node("BatchNormalization", name + ".bn", new String[] {x, g.weights(name + ".gamma", gamma, n),
                g.weights(name + ".beta", beta, n), g.weights(name + ".mean", mean, n), g.weights(name + ".var", var, n)},
                attr("epsilon", (float) c.getEps()));
    }

    /** x [N, nIn] times W [nIn, nOut] (DL4J's layout, Gemm's B as is) plus b. */
    private static String gemm(OnnxExportGraph g, String name, org.deeplearning4j.nn.conf.layers.Layer c, Layer layer, InputType in,
                               String x) {
        if (in.getType() != InputType.Type.FF) {
            throw OnnxExporter.notExportable(name, c.getClass().getSimpleName(), "input of type " + in + " (expected a flat feature vector)");
        }
        org.deeplearning4j.nn.conf.layers.FeedForwardLayer f = (org.deeplearning4j.nn.conf.layers.FeedForwardLayer) c;
        boolean bias = c instanceof DenseLayer dl ? dl.hasBias() : ((OutputLayer) c).hasBias();
        String w = g.weights(name + ".W", layer.getParam("W"), f.getNIn(), f.getNOut());
        String[] inputs = bias ? new String[] {x, w, g.weights(name + ".b", layer.getParam("b"), f.getNOut())} : new String[] {x, w};
        return g.node("Gemm", name + ".gemm", inputs);
    }

    private static String globalPool(OnnxExportGraph g, String name, GlobalPoolingLayer c, InputType in, String x) {
        if (in.getType() != InputType.Type.CNN) {
            throw OnnxExporter.notExportable(name, "GlobalPoolingLayer", "input of type " + in + " (only 2-D feature maps are exported)");
        }
        String op = switch (c.getPoolingType()) {
            case AVG -> "GlobalAveragePool";
            case MAX -> "GlobalMaxPool";
            default -> throw OnnxExporter.notExportable(name, "GlobalPoolingLayer", c.getPoolingType() + " pooling (only AVG and MAX map to ONNX)");
        };
        String y = g.node(op, name + ".pool", x);
        return c.isCollapseDimensions() ? g.node("Flatten", name, y, attr("axis", 1L)) : y;
    }

    /**
     * DL4J computes x / (k + alpha * sum of squares over the n channels around)^beta; ONNX divides alpha by the window
     * size, so alpha * n goes there. Both centre the window on the channel, which needs an odd n.
     */
    private static String lrn(OnnxExportGraph g, String name, LocalResponseNormalization c, String x) {
        long n = (long) c.getN();
        if (n != c.getN() || n % 2 == 0) {
            throw OnnxExporter.notExportable(name, "LocalResponseNormalization", "window n = " + c.getN() + " (only odd whole windows map to ONNX)");
        }
        return g.node("LRN", name, x, attr("size", n), attr("alpha", (float) (c.getAlpha() * n)), attr("beta", (float) c.getBeta()),
                attr("bias", (float) c.getK()));
    }

    /** Nearest-neighbour upsampling by whole factors: output pixel (i, j) copies input (floor(i / s), floor(j / s)). */
    private static String upsample(OnnxExportGraph g, String name, Upsampling2D c, String x) {
        int[] s = c.getSize();
        String scales = g.floats(name + ".scales", new float[] {1, 1, s[0], s[1]}, 4);
        return g.node("Resize", name, new String[] {x, "", scales}, attr("mode", "nearest"),
                attr("coordinate_transformation_mode", "asymmetric"), attr("nearest_mode", "floor"));
    }

    private static Out activate(OnnxExportGraph g, String name, org.deeplearning4j.nn.conf.layers.Layer c, String x) {
        IActivation a = c instanceof BaseLayer b ? b.getActivationFn() : c instanceof ActivationLayer al ? al.getActivationFn()
                : c instanceof LossLayer l ? l.getActivationFn() : null;
        if (a == null || a instanceof ActivationIdentity) return new Out(x, null);
        if (a instanceof ActivationReLU r) {
            boolean plain = (r.getMax() == null || r.getMax() == 0) && (r.getThreshold() == null || r.getThreshold() == 0)
                    && (r.getNegativeSlope() == null || r.getNegativeSlope() == 0);
            if (!plain) throw OnnxExporter.notExportable(name, c.getClass().getSimpleName(), "ReLU with max/threshold/negative slope");
            return new Out(g.node("Relu", name, x), null);
        }
        if (a instanceof ActivationReLU6) return new Out(g.node("Clip", name, new String[] {x, g.scalar(name + ".min", 0f), g.scalar(name + ".max", 6f)}), null);
        if (a instanceof ActivationLReLU l) return new Out(g.node("LeakyRelu", name, x, attr("alpha", (float) l.getAlpha())), null);
        if (a instanceof ActivationSigmoid) return new Out(g.node("Sigmoid", name, x), null);
        if (a instanceof ActivationTanH) return new Out(g.node("Tanh", name, x), null);
        if (a instanceof ActivationSoftmax) return new Out(g.node("Softmax", name, x, attr("axis", 1L)), x);
        throw OnnxExporter.notExportable(name, c.getClass().getSimpleName(), "activation " + a
                + " (exportable: identity, relu, relu6, leakyrelu, sigmoid, tanh, softmax)");
    }
}
