package io.sparkvision.cli;

import io.sparkvision.image.InputShape;
import io.sparkvision.model.Architecture;
import io.sparkvision.model.Architectures;
import io.sparkvision.model.FilterImage;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.ModelMetadata;
import io.sparkvision.model.ModelStats;
import io.sparkvision.model.NetConf;
import io.sparkvision.model.onnx.OnnxExportMetadata;
import io.sparkvision.model.onnx.OnnxExporter;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sparkvision models}: the architectures model.name can name; summaries, first-layer filters, forward timing,
 * export to ONNX.
 */
@Command(name = "models", mixinStandardHelpOptions = true, description = "List the architectures model.name can name.",
        subcommands = {ModelsCommand.Summary.class, ModelsCommand.Filters.class, ModelsCommand.Bench.class,
                ModelsCommand.Export.class})
final class ModelsCommand implements Callable<Integer> {
    @Option(names = "--classes", description = "number of classes for the parameter count (default: ${DEFAULT-VALUE})")
    int classes = 10;

    @Override
    public Integer call() {
        // Counted from the configuration: no weights are allocated, so ResNet-152 and VGG-19 list instantly.
        System.out.printf("%-12s %-10s %-10s %12s  %s%n", "name", "input", "minimum", "parameters", "description");
        for (String name : Architectures.names()) {
            Architecture a = Architectures.get(name);
            long params = ModelStats.params(a.configure(a.defaultInput(), classes, 1, new Sgd(0.1), 0));
            InputShape min = a.minimumInput();
            System.out.printf(Locale.ROOT, "%-12s %-10s %-10s %,12d  %s%n", name, a.defaultInput(),
                    min.height() + "x" + min.width(), params, a.description());
        }
        System.out.println("parameters exclude BatchNorm running statistics; minimum = smallest HxW the model builds for");
        return 0;
    }

    @Command(name = "summary", mixinStandardHelpOptions = true,
            description = "One row per layer: output shape (CxHxW, by DL4J's shape propagation), parameters, multiply-adds.")
    static final class Summary implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME", description = "an architecture name, e.g. resnet50")
        String name;
        @Option(names = "--input", paramLabel = "CxHxW", description = "input shape (default: the model's own)")
        String input;
        @Option(names = "--classes", description = "number of classes (default: ${DEFAULT-VALUE})")
        int classes = 1000;

        @Override
        public Integer call() {
            Architecture a = Architectures.get(name);
            InputShape in = input == null ? a.defaultInput() : InputShape.parse(input);
            NetConf conf = a.configure(in, classes, 1, new Sgd(0.1), 0);
            System.out.print(ModelStats.format(name, conf, ModelStats.summary(conf)));
            return 0;
        }
    }

    @Command(name = "filters", mixinStandardHelpOptions = true,
            description = "Render a saved model's first convolution kernels as a PNG grid.")
    static final class Filters implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "CHECKPOINT", description = "a saved model or checkpoint .zip (any Hadoop URI)")
        String checkpoint;
        @Option(names = "--out", required = true, paramLabel = "F.png", description = "the PNG to write")
        File out;

        @Override
        public Integer call() throws Exception {
            Model m = ModelFiles.load(new Path(checkpoint), new Configuration());
            BufferedImage img = FilterImage.render(m);
            if (out.getAbsoluteFile().getParentFile() != null) out.getAbsoluteFile().getParentFile().mkdirs();
            ImageIO.write(img, "png", out);
            System.out.printf(Locale.ROOT, "%s: %dx%d pixels%n", out, img.getWidth(), img.getHeight());
            return 0;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Write a saved model as a standard ONNX graph (opset 13, float32, NCHW input) with its image "
                    + "preparation in the ONNX metadata (docs/onnx-export.md).")
    static final class Export implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MODEL", description = "a saved model or checkpoint .zip, or a registry pointer (any Hadoop URI)")
        String model;
        @Option(names = "--onnx", required = true, paramLabel = "OUT.onnx", description = "the ONNX file to write (any Hadoop URI)")
        String onnx;
        @Option(names = "--input", paramLabel = "CxHxW",
                description = "input shape, only for a bare DL4J zip without its model.json (default: the model's own)")
        String input;

        @Override
        public Integer call() throws Exception {
            Configuration conf = new Configuration();
            Path zip = ModelFiles.resolve(io.sparkvision.io.HadoopFs.path(model), conf);
            Model m = ModelFiles.load(zip, conf);
            ModelMetadata meta = ModelFiles.readMetadata(zip, conf);
            InputShape recorded = meta == null ? null : meta.inputShape();
            InputShape in = input != null ? InputShape.parse(input) : recorded;
            if (in == null) {
                throw new IllegalArgumentException(zip + " has no " + ModelFiles.metadataPath(zip).getName()
                        + " recording its input shape; pass --input CxHxW (the shape it was trained on)");
            }
            if (recorded != null && !recorded.equals(in)) {
                throw new IllegalArgumentException("--input " + in + " differs from the input " + recorded + " that "
                        + ModelFiles.metadataPath(zip) + " records; leave --input out");
            }
            Map<String, String> props = OnnxExportMetadata.of(meta, in, ModelFiles.metadataPath(zip).toString());
            onnx.OnnxMl.ModelProto proto = OnnxExporter.export(m, in, props);
            Path out = io.sparkvision.io.HadoopFs.path(onnx);
            io.sparkvision.io.HadoopFs.writeAtomically(out, conf, proto::writeTo);
            System.out.printf(Locale.ROOT, "%s: %d nodes, %d initializers, %,d bytes; input %s [N,%d,%d,%d] NCHW; outputs %s%n",
                    out, proto.getGraph().getNodeCount(), proto.getGraph().getInitializerCount(), proto.getSerializedSize(),
                    OnnxExporter.INPUT, in.channels(), in.height(), in.width(),
                    proto.getGraph().getOutputList().stream().map(o -> o.getName()).toList());
            if (meta == null) {
                System.out.println("no " + ModelFiles.metadataPath(zip).getName() + " beside the zip: the ONNX metadata records "
                        + "no image preparation, mean/std or classes");
            }
            return 0;
        }
    }

    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = "Forward time per model, batch 1 on this machine's CPU, after one warm-up pass.")
    static final class Bench implements Callable<Integer> {
        @Parameters(arity = "0..*", paramLabel = "NAME", description = "architecture names (default: all)")
        List<String> names = new ArrayList<>();
        @Option(names = "--input", paramLabel = "CxHxW", description = "input shape (default: ${DEFAULT-VALUE})")
        String input = "3x224x224";
        @Option(names = "--classes", description = "number of classes (default: ${DEFAULT-VALUE})")
        int classes = 1000;
        @Option(names = "--runs", description = "timed forward passes; the median is reported (default: ${DEFAULT-VALUE})")
        int runs = 3;

        @Override
        public Integer call() {
            InputShape in = InputShape.parse(input);
            List<String> todo = names.isEmpty() ? Architectures.names() : names;
            System.out.printf("%-12s %-10s %14s %10s %10s%n", "name", "input", "parameters", "build ms", "forward ms");
            for (String name : todo) {
                Architecture a = Architectures.get(name);
                long t0 = System.nanoTime();
                Model m = a.build(in, classes, 1, new Sgd(0.1), 0);
                long build = (System.nanoTime() - t0) / 1_000_000;
                try {
                    INDArray x = Nd4j.rand(new int[] {1, in.channels(), in.height(), in.width()});
                    forward(m, x); // warm-up: workspaces, oneDNN primitives
                    double[] ms = new double[runs];
                    for (int r = 0; r < runs; r++) {
                        long s = System.nanoTime();
                        forward(m, x);
                        ms[r] = (System.nanoTime() - s) / 1e6;
                    }
                    Arrays.sort(ms);
                    System.out.printf(Locale.ROOT, "%-12s %-10s %,14d %10d %10.1f%n", name, in, ModelStats.params(m), build, ms[runs / 2]);
                } finally {
                    m.close();
                }
            }
            return 0;
        }

        private static void forward(Model m, INDArray x) {
            if (m instanceof MultiLayerNetwork mln) mln.output(x);
            else ((ComputationGraph) m).outputSingle(x);
        }
    }
}
