package io.sparkvision.model.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.sparkvision.image.ImagePreparation;
import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.InputShape;
import io.sparkvision.model.Architectures;
import io.sparkvision.model.Models;
import onnx.OnnxMl;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proof for one model: DL4J (inference mode) and ONNX Runtime run the same prepared images; the top-1 classes
 * must be equal and the logits within {@link #TOLERANCE} of the largest |logit|.
 */
final class OnnxExportCheck {
    /** Relative float32 tolerance on logits: max |DL4J - ORT| <= 1e-4 * max |DL4J logit| over the batch. */
    static final double TOLERANCE = 1e-4;
    static final int CLASSES = 10, IMAGES = 4;
    /** ImageNet's statistics: a non-trivial normalisation, as a trained model's metadata carries. */
    static final double[] MEAN = {0.485, 0.456, 0.406}, STD = {0.229, 0.224, 0.225};

    private OnnxExportCheck() {
    }

    /** What one comparison measured. */
    record Result(String model, double relativeError, int batchNorms, long onnxBytes, long millis) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s: max |logit diff| / max |logit| = %.2e, %d BatchNorm nodes, %,d bytes, %d ms",
                    model, relativeError, batchNorms, onnxBytes, millis);
        }
    }

    static Result check(String arch, InputShape in, Path dir) throws Exception {
        long t0 = System.nanoTime();
        Model m = Architectures.get(arch).build(in, CLASSES, 42, new Sgd(0.1), 0);
        try {
            return check(arch, m, in, dir, t0);
        } finally {
            m.close();
        }
    }

    static Result check(String label, Model m, InputShape in, Path dir, long t0) throws Exception {
        int bnLayers = setBatchNormStatistics(m, 7);
        float[] x = preparedImages(in, IMAGES, 11);
        INDArray features = Nd4j.create(x, new long[] {IMAGES, in.channels(), in.height(), in.width()}, 'c');
        float[] probs = Models.output(m, features).dup('c').data().asFloat();
        float[] logits = logitsOf(m, features);

        OnnxMl.ModelProto proto = OnnxExporter.export(m, in, Map.of("sparkvision.architecture", label));
        long bnNodes = proto.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("BatchNormalization")).count();
        assertEquals(bnLayers, bnNodes, label + ": one ONNX BatchNormalization per DL4J BatchNormalization layer");
        Path file = dir.resolve(label + ".onnx");
        try (OutputStream out = Files.newOutputStream(file)) {
            proto.writeTo(out);
        }
        long bytes = Files.size(file);
        proto = null; // the initializers' bytes: let them go before ONNX Runtime loads its own copy

        float[][] ort = runOnnx(file, x, in);
        Files.delete(file);
        int n = logits.length / IMAGES; // LossLayer heads (nin, allcnnc) have no parameters to count classes by
        assertEquals(IMAGES * n, ort[0].length, label + ": ONNX logits size");
        double maxLogit = 0, maxDiff = 0, maxProbDiff = 0;
        for (int i = 0; i < logits.length; i++) {
            maxLogit = Math.max(maxLogit, Math.abs(logits[i]));
            maxDiff = Math.max(maxDiff, Math.abs(logits[i] - ort[0][i]));
            maxProbDiff = Math.max(maxProbDiff, Math.abs(probs[i] - ort[1][i]));
        }
        assertTrue(maxLogit > 0, label + ": DL4J logits are all zero; the comparison would prove nothing");
        double rel = maxDiff / maxLogit;
        assertTrue(rel <= TOLERANCE, String.format(Locale.ROOT, "%s: logits differ by %.3e of max |logit| %.3e (tolerance %.0e)",
                label, rel, maxLogit, TOLERANCE));
        assertTrue(maxProbDiff <= 1e-4, label + ": probabilities differ by " + maxProbDiff);
        assertArrayEquals(top1(logits, n), top1(ort[0], n), label + ": top-1 of DL4J logits vs ONNX Runtime logits");
        assertArrayEquals(top1(probs, n), top1(ort[1], n), label + ": top-1 of DL4J output() vs ONNX Runtime probabilities");
        return new Result(label, rel, bnLayers, bytes, (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * Gives every BatchNorm layer running statistics and affine parameters away from their initial 0/1 (mean ~ N(0, 0.2),
     * var in [0.5, 2], gamma in [0.5, 1.5], beta ~ N(0, 0.2)), so the export of each is really checked. Returns how many.
     */
    static int setBatchNormStatistics(Model m, long seed) {
        Random r = new Random(seed);
        int count = 0;
        for (Layer l : layers(m)) {
            if (!(l.conf().getLayer() instanceof BatchNormalization bn)) continue;
            count++;
            long c = bn.getNOut();
            float[] mean = new float[(int) c], var = new float[(int) c], gamma = new float[(int) c], beta = new float[(int) c];
            for (int i = 0; i < c; i++) {
                mean[i] = (float) (0.2 * r.nextGaussian());
                var[i] = (float) (0.5 + 1.5 * r.nextDouble());
                gamma[i] = (float) (0.5 + r.nextDouble());
                beta[i] = (float) (0.2 * r.nextGaussian());
            }
            set(l, "mean", mean);
            if (l.paramTable().containsKey("log10stdev")) {
                float[] logStd = new float[(int) c];
                for (int i = 0; i < c; i++) logStd[i] = (float) Math.log10(Math.sqrt(var[i])); // DL4J stores log10 of sqrt(variance)
                set(l, "log10stdev", logStd);
            } else {
                set(l, "var", var);
            }
            if (!bn.isLockGammaBeta()) {
                set(l, "gamma", gamma);
                set(l, "beta", beta);
            }
        }
        return count;
    }

    private static void set(Layer l, String param, float[] v) {
        INDArray p = l.getParam(param);
        p.assign(Nd4j.create(v).reshape(p.shape()).castTo(p.dataType()));
    }

    static List<Layer> layers(Model m) {
        return List.of(m instanceof MultiLayerNetwork mln ? mln.getLayers() : ((ComputationGraph) m).getLayers());
    }

    /** DL4J's logits: the output layer's activation set to identity for one forward pass, then restored. */
    static float[] logitsOf(Model m, INDArray features) {
        Layer out = m instanceof MultiLayerNetwork mln ? mln.getOutputLayer() : ((ComputationGraph) m).getOutputLayer(0);
        org.deeplearning4j.nn.conf.layers.Layer conf = out.conf().getLayer();
        IActivation softmax = conf instanceof LossLayer ll ? ll.getActivationFn() : ((BaseLayer) conf).getActivationFn();
        setActivation(conf, new ActivationIdentity());
        try {
            return Models.output(m, features).dup('c').data().asFloat();
        } finally {
            setActivation(conf, softmax);
        }
    }

    private static void setActivation(org.deeplearning4j.nn.conf.layers.Layer conf, IActivation a) {
        if (conf instanceof LossLayer ll) ll.setActivationFn(a);
        else ((BaseLayer) conf).setActivationFn(a);
    }

    /** {logits, probabilities} from ONNX Runtime (CPU, default options). */
    static float[][] runOnnx(Path file, float[] x, InputShape in) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(2);
            try (OrtSession s = env.createSession(file.toString(), o);
                 OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {x.length / in.pixels(), in.channels(), in.height(), in.width()});
                 OrtSession.Result r = s.run(Map.of(OnnxExporter.INPUT, t))) {
                float[][] logits = (float[][]) r.get(OnnxExporter.LOGITS).orElseThrow().getValue();
                float[][] probs = (float[][]) r.get(OnnxExporter.PROBABILITIES).orElseThrow().getValue();
                return new float[][] {flat(logits), flat(probs)};
            }
        }
    }

    private static float[] flat(float[][] a) {
        float[] f = new float[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) System.arraycopy(a[i], 0, f, i * a[0].length, a[0].length);
        return f;
    }

    static int[] top1(float[] v, int n) {
        int[] t = new int[v.length / n];
        for (int b = 0; b < t.length; b++) {
            int best = 0;
            for (int c = 1; c < n; c++) if (v[b * n + c] > v[b * n + best]) best = c;
            t[b] = best;
        }
        return t;
    }

    /**
     * {@code count} images through the product's own preparation (ImagePreparer, the score job's path): random-content
     * PNGs of other sizes and aspect ratios than the input, shorter-side-cropped, normalised with {@link #MEAN}/{@link #STD}.
     */
    static float[] preparedImages(InputShape in, int count, long seed) throws Exception {
        return preparedImages(new ImagePreparation(in.height(), ImagePreparation.SHORTER_SIDE_CROP, in.channels(), ImagePreparation.WHITE),
                MEAN, STD, count, seed);
    }

    static float[] preparedImages(ImagePreparation prep, double[] mean, double[] std, int count, long seed) throws Exception {
        Random r = new Random(seed);
        InputShape in = prep.shape();
        float[] all = new float[count * in.pixels()];
        for (int i = 0; i < count; i++) {
            BufferedImage img = new BufferedImage(in.width() + 7 * i + 3, in.height() + 5 * i, BufferedImage.TYPE_INT_RGB);
            // smooth gradients plus noise: structure for the convs to respond to, different per image
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    int red = (x * (40 + 20 * i) / img.getWidth() + r.nextInt(60)) & 255;
                    int green = (y * (90 + 30 * i) / img.getHeight() + r.nextInt(60)) & 255;
                    int blue = ((x + y) * 3 + 50 * i + r.nextInt(60)) & 255;
                    img.setRGB(x, y, (red << 16) | (green << 8) | blue);
                }
            }
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(img, "png", png);
            float[] t = ImagePreparer.tensor(png.toByteArray(), prep, Long.MAX_VALUE, "test", mean, std);
            System.arraycopy(t, 0, all, i * in.pixels(), in.pixels());
        }
        return all;
    }
}
