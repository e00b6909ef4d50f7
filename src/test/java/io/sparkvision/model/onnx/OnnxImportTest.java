package io.sparkvision.model.onnx;

import io.sparkvision.image.InputShape;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.Architectures;
import io.sparkvision.model.onnx.OnnxImportTorch.Export;
import onnx.Onnx;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.api.Model;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.shade.protobuf.ByteString;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Weights in from PyTorch, checked against PyTorch itself: torchvision builds a seeded model (BatchNorm statistics
 * randomised), torch.onnx.export writes it as docs/onnx-import.md asks, PyTorch computes its eval-mode logits on seeded
 * images; the import into the zoo's architecture must give the same logits (relative float32 tolerance
 * {@link #TOLERANCE}) and the same top-1. ResNet-18 and ResNet-50 here; the other architectures in
 * {@link OnnxImportFullTest} (--full). Skipped, saying what to install, without Debian's python3-torch.
 */
class OnnxImportTest {
    /**
     * max |DL4J - PyTorch| / max |PyTorch| over all logits: float32 summation order differs, nothing else may. Measured
     * (docs/onnx-import.md): 1e-6 (resnet18) and 1.6e-6 (resnet50), as close to the float64 answer as PyTorch's own float32
     * logits. A BatchNorm eps counted twice gave 1.3e-4 on resnet50 (caught by this bound); a wrong tensor or layout gives
     * differences of order 1.
     */
    static final double TOLERANCE = 1e-5;

    @TempDir
    static Path dir;
    static Export resnet18;

    @BeforeAll
    static void exportResnet18() throws Exception {
        OnnxImportTorch.python();
        resnet18 = OnnxImportTorch.export(dir, "resnet18", 64, "preserve");
    }

    @Test
    void resnet18MatchesPyTorch() throws IOException {
        assertMatchesPyTorch("resnet18", 64, resnet18);
    }

    @Test
    void resnet50MatchesPyTorch() throws Exception {
        assertMatchesPyTorch("resnet50", 64, OnnxImportTorch.export(dir, "resnet50", 64, "preserve"));
    }

    /** Imports {@code e} into the zoo's {@code arch} and compares logits and top-1 with PyTorch's. */
    static void assertMatchesPyTorch(String arch, int size, Export e) throws IOException {
        Model net = OnnxImporter.load(Architectures.get(arch), new InputShape(3, size, size), HadoopFs.path(e.onnx().toString()),
                new Configuration(), 1, new Adam(1e-3), 0);
        INDArray ours = OnnxImportTorch.logits(net, e.images());
        double scale = e.logits().amax().getDouble(0);
        double rel = ours.sub(e.logits()).amax().getDouble(0) / scale;
        INDArray exact = e.exact();
        double oursExact = ours.castTo(exact.dataType()).sub(exact).amax().getDouble(0) / scale;
        double torchExact = e.logits().castTo(exact.dataType()).sub(exact).amax().getDouble(0) / scale;
        System.out.printf(Locale.ROOT, "onnx import %s %dx%d: max |logit| %.4g, max relative difference to PyTorch %.3g; "
                        + "to float64 PyTorch: DL4J %.3g, float32 PyTorch %.3g%n", arch, size, size, scale, rel, oursExact, torchExact);
        assertTrue(scale > 1e-3, arch + ": PyTorch's logits are all ~0, the comparison would prove nothing");
        assertTrue(rel <= TOLERANCE, arch + ": logits differ from PyTorch's by " + rel + " (relative), more than " + TOLERANCE);
        assertArrayEquals(e.logits().argMax(1).toLongVector(), ours.argMax(1).toLongVector(), arch + ": top-1 as PyTorch's");
        // the network's own output (softmax) ranks as the logits do
        INDArray probabilities = net instanceof org.deeplearning4j.nn.graph.ComputationGraph g ? g.outputSingle(false, e.images())
                : ((org.deeplearning4j.nn.multilayer.MultiLayerNetwork) net).output(e.images(), false);
        assertArrayEquals(e.logits().argMax(1).toLongVector(), probabilities.argMax(1).toLongVector(), arch + ": output's top-1");
    }

    @Test
    void aTensorOfAnotherShapeIsNamedWithBothShapes() throws IOException {
        Path bad = rewrite(resnet18.onnx(), "bad-shape.onnx", "layer2.0.conv1.weight", new long[] {128, 64, 1, 1});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> importResnet18(bad));
        assertTrue(e.getMessage().contains("tensor layer2.0.conv1.weight has shape [128, 64, 1, 1], expected [128, 64, 3, 3] "
                + "(into resnet18 layer layer2.0.1.conv)"), e.getMessage());
        assertTrue(e.getMessage().contains("set model.name to the architecture it was exported from"), e.getMessage());
    }

    @Test
    void theFirstMissingTensorIsNamed() {
        // a ResNet-18 file imported as ResNet-34: the first tensor ResNet-34 has and ResNet-18 not is layer1.2's first conv
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxImporter.load(
                Architectures.get("resnet34"), new InputShape(3, 64, 64), HadoopFs.path(resnet18.onnx().toString()),
                new Configuration(), 1, new Adam(1e-3), 0));
        assertTrue(e.getMessage().contains("has no tensor layer1.2.conv1.weight, expected shape [64, 64, 3, 3] "
                + "(into resnet34 layer layer1.2.1.conv)"), e.getMessage());
    }

    @Test
    void tensorsTheArchitectureLacksAreNamed() throws IOException {
        Path extra = rewrite(resnet18.onnx(), "extra.onnx", "layer5.0.conv1.weight", new long[] {8, 8, 1, 1});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> importResnet18(extra));
        assertTrue(e.getMessage().contains("has 1 weight tensors that resnet18 does not have, first layer5.0.conv1.weight [8, 8, 1, 1]"),
                e.getMessage());
    }

    @Test
    void aFoldedExportIsRefusedWithTheExportToRun() throws Exception {
        Path folded = Files.createDirectories(dir.resolve("folded"));
        Export e = OnnxImportTorch.export(folded, "resnet18", 64, "folded");
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> importResnet18(e.onnx()));
        assertTrue(error.getMessage().contains("has no BatchNormalization nodes: torch.onnx.export folded BatchNorm into the "
                + "convolutions") && error.getMessage().contains("training=torch.onnx.TrainingMode.PRESERVE"), error.getMessage());
    }

    @Test
    void alexnet2012IsNotTorchvisionsAlexNet() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxImporter.load(
                Architectures.get("alexnet2012"), new InputShape(3, 64, 64), HadoopFs.path(resnet18.onnx().toString()),
                new Configuration(), 1, new Adam(1e-3), 0));
        assertTrue(e.getMessage().contains("torchvision.models.alexnet is the zoo's `alexnet`"), e.getMessage());
    }

    @Test
    void aFileThatIsNotOnnxSaysSo() throws IOException {
        Path junk = Files.writeString(dir.resolve("junk.onnx"), "not a protobuf at all, just text");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> importResnet18(junk));
        assertTrue(e.getMessage().contains("junk.onnx"), e.getMessage());
    }

    private static Model importResnet18(Path onnx) throws IOException {
        return OnnxImporter.load(Architectures.get("resnet18"), new InputShape(3, 64, 64), HadoopFs.path(onnx.toString()),
                new Configuration(), 1, new Adam(1e-3), 0);
    }

    /** A copy of {@code onnx} where tensor {@code name} (replaced or added) has {@code dims} (zeros). */
    private static Path rewrite(Path onnx, String file, String name, long[] dims) throws IOException {
        Onnx.ModelProto m = Onnx.ModelProto.parseFrom(Files.readAllBytes(onnx));
        long n = 1;
        for (long d : dims) n *= d;
        Onnx.TensorProto t = Onnx.TensorProto.newBuilder().setName(name).setDataType(1)
                .addAllDims(java.util.Arrays.stream(dims).boxed().toList()).setRawData(ByteString.copyFrom(new byte[(int) (4 * n)])).build();
        Onnx.GraphProto.Builder g = m.getGraph().toBuilder();
        int at = -1;
        for (int i = 0; i < g.getInitializerCount(); i++) if (g.getInitializer(i).getName().equals(name)) at = i;
        if (at >= 0) g.setInitializer(at, t);
        else g.addInitializer(t);
        Path out = dir.resolve(file);
        try (OutputStream o = Files.newOutputStream(out)) {
            m.toBuilder().setGraph(g).build().writeTo(o);
        }
        assertEquals(at >= 0, m.getGraph().getInitializerList().stream().anyMatch(x -> x.getName().equals(name)));
        return out;
    }
}
