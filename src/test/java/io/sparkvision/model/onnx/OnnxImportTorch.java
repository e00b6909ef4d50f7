package io.sparkvision.model.onnx;

import io.sparkvision.TestSpark;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The PyTorch side of the import tests: runs src/test/resources/onnx/torch_export.py with Debian's PyTorch
 * (/usr/bin/python3, or $SPARKVISION_PYTHON) and reads what it wrote; and the DL4J side's logits.
 */
public final class OnnxImportTorch {
    static final String INSTALL = "apt-get install python3-torch python3-torchvision";
    private static String python;
    private static boolean probed;

    private OnnxImportTorch() {
    }

    /** A python3 that imports torch and torchvision, or the test is skipped saying how to install one. */
    public static synchronized String python() {
        if (!probed) {
            probed = true;
            String env = System.getenv("SPARKVISION_PYTHON");
            for (String candidate : env == null || env.isBlank() ? List.of("/usr/bin/python3") : List.of(env, "/usr/bin/python3")) {
                try {
                    Process p = new ProcessBuilder(candidate, "-c", "import torch, torchvision").redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                    if (p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0) {
                        python = candidate;
                        break;
                    }
                    p.destroyForcibly();
                } catch (IOException e) {
                    // not there: try the next
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        assumeTrue(python != null, "no /usr/bin/python3 with torch and torchvision: " + INSTALL
                + " (Debian's PyTorch; .ci/run installs it) to compare the import against PyTorch");
        return python;
    }

    /** What torch_export.py wrote for one architecture. */
    public record Export(Path onnx, INDArray images, INDArray logits, INDArray exact) {
    }

    /** Exports a seeded torchvision {@code arch} for {@code size}x{@code size} images ("preserve" or "folded" BatchNorm). */
    public static Export export(Path dir, String arch, int size, String mode) throws IOException, InterruptedException {
        Path script = TestSpark.basedir().resolve("src/test/resources/onnx/torch_export.py");
        Process p = new ProcessBuilder(python(), script.toString(), dir.toString(), arch, "" + size, mode)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("torch_export.py " + arch + " failed:\n" + out);
        }
        int n = 4;
        return new Export(dir.resolve(arch + ".onnx"), read(dir.resolve(arch + ".input.f32"), n, 3, size, size),
                read(dir.resolve(arch + ".logits.f32"), n, 1000), readDoubles(dir.resolve(arch + ".logits.f64"), n, 1000));
    }

    static INDArray read(Path f, long... shape) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[b.remaining() / 4];
        b.asFloatBuffer().get(v);
        return Nd4j.createFromArray(v).reshape('c', shape);
    }

    static INDArray readDoubles(Path f, long... shape) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
        double[] v = new double[b.remaining() / 8];
        b.asDoubleBuffer().get(v);
        return Nd4j.createFromArray(v).reshape('c', shape);
    }

    /**
     * The network's logits (its classifier's pre-softmax output) in inference mode: the classifier's input as DL4J's
     * forward pass computes it, times the classifier's W plus b.
     */
    public static INDArray logits(Model net, INDArray images) {
        INDArray features;
        org.deeplearning4j.nn.api.Layer head;
        if (net instanceof MultiLayerNetwork mln) {
            List<INDArray> acts = mln.feedForward(images, false);
            features = acts.get(acts.size() - 2);
            head = mln.getOutputLayer();
        } else {
            ComputationGraph g = (ComputationGraph) net;
            String out = g.getConfiguration().getNetworkOutputs().get(0);
            String in = g.getConfiguration().getVertexInputs().get(out).get(0);
            features = g.feedForward(images, false).get(in);
            head = g.getLayer(out);
        }
        return features.reshape(features.size(0), -1).mmul(head.getParam("W")).addRowVector(head.getParam("b"));
    }
}
