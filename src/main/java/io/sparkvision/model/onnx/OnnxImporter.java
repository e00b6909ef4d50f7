package io.sparkvision.model.onnx;

import io.sparkvision.image.InputShape;
import io.sparkvision.model.Architecture;
import io.sparkvision.model.onnx.OnnxImportMapping.Target;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Weights in from PyTorch: the initializers of an ONNX file that torch.onnx.export wrote for a torchvision model,
 * copied into the zoo's architecture of the same layout (docs/onnx-import.md). Every tensor is looked up by
 * torchvision's parameter name ({@link OnnxImportMapping}) and must have exactly the shape the zoo's layer has
 * (PyTorch's order); the first one that does not fails the import with its name, both shapes and the fix. The graph
 * itself is not interpreted: the zoo architecture is the network, the file only supplies its weights.
 */
public final class OnnxImporter {
    private static final String EXPORT = "torch.onnx.export(model.eval(), torch.randn(1, 3, 224, 224), \"model.onnx\", "
            + "training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)";

    private OnnxImporter() {
    }

    /** The export call docs/onnx-import.md asks users to run, quoted in errors. */
    public static String exportCall() {
        return EXPORT;
    }

    /** Whether a URI names an ONNX file (by its extension, as train.init-model tells the two formats apart). */
    public static boolean isOnnx(String uri) {
        return uri.trim().toLowerCase(java.util.Locale.ROOT).endsWith(".onnx");
    }

    /** Reads the file and imports it: {@link #importInto(Architecture, InputShape, OnnxImportFile, long, IUpdater, double)}. */
    public static Model load(Architecture arch, InputShape input, Path onnx, Configuration conf, long seed, IUpdater updater,
                             double weightDecay) throws IOException {
        return importInto(arch, input, OnnxImportFile.read(onnx, conf), seed, updater, weightDecay);
    }

    /**
     * Builds {@code arch} for {@code input} with as many classes as the file's classifier has, then overwrites every
     * parameter (BatchNorm running statistics included) with the file's tensors.
     *
     * @throws IllegalArgumentException naming the first tensor that is missing or has another shape, or a file with
     *                                  tensors the architecture does not have (another architecture's file)
     */
    public static Model importInto(Architecture arch, InputShape input, OnnxImportFile file, long seed, IUpdater updater,
                                   double weightDecay) {
        String name = arch.name();
        if (!OnnxImportMapping.supported(name)) {
            throw new IllegalArgumentException("cannot import " + file.where() + " into model " + name + ": weights from "
                    + "PyTorch import only into the zoo's torchvision layouts (resnet18/34/50/101/152, vgg11/13/16/19 and their "
                    + "bn variants, densenet121, alexnet)" + (name.equals("alexnet2012")
                    ? "; alexnet2012 is the 2012 paper's layout (96/256/384/384/256 filters, LRN), which torchvision does not "
                    + "build: torchvision.models.alexnet is the zoo's `alexnet`" : "")
                    + "; set model.name to the architecture the file was exported from");
        }
        if (input.channels() != 3) {
            throw new IllegalArgumentException("cannot import " + file.where() + " for " + input + " images: torchvision's "
                    + name + " takes 3-channel (RGB) images; ingest the images with ingest.channels = 3");
        }
        Model net = arch.build(input, classes(name, file), seed, updater, weightDecay);
        List<Target> targets = OnnxImportMapping.targets(name, net);
        boolean hasBatchNorm = targets.stream().anyMatch(t -> t.layer().conf().getLayer() instanceof BatchNormalization);
        if (hasBatchNorm && !file.usesOperator("BatchNormalization")) {
            throw new IllegalArgumentException(file.where() + " has no BatchNormalization nodes: torch.onnx.export folded "
                    + "BatchNorm into the convolutions (its default for a model in eval mode), so " + name + "'s BatchNorm "
                    + "weights and running statistics are not in the file; export it again with " + EXPORT);
        }
        Set<String> used = new HashSet<>();
        for (Target t : targets) copy(t, file, name, used);
        List<String> unused = new ArrayList<>();
        for (String n : file.names()) {
            // num_batches_tracked (int64) is a counter PyTorch keeps for momentum=None; DL4J has no counterpart
            if (!used.contains(n) && file.isFloat(n) && !n.endsWith("num_batches_tracked")) unused.add(n);
        }
        if (!unused.isEmpty()) {
            throw new IllegalArgumentException(file.where() + " has " + unused.size() + " weight tensors that " + name
                    + " does not have, first " + unused.get(0) + " " + Arrays.toString(file.dims(unused.get(0)))
                    + ": it was exported from a larger network than torchvision." + OnnxImportMapping.torchvisionName(name)
                    + "; set model.name to the architecture it was exported from");
        }
        return net;
    }

    /** The classifier's output count, from the file (1000 for ImageNet weights). */
    private static int classes(String arch, OnnxImportFile file) {
        String head = arch.startsWith("resnet") ? "fc.weight" : arch.equals("densenet121") ? "classifier.weight" : "classifier.6.weight";
        if (!file.has(head)) {
            throw new IllegalArgumentException(file.where() + " has no tensor " + head + " (the classifier of torchvision's "
                    + OnnxImportMapping.torchvisionName(arch) + "): " + notFoundHint(file, arch));
        }
        long[] d = file.dims(head);
        if (d.length != 2) {
            throw new IllegalArgumentException(file.where() + ": tensor " + head + " has shape " + Arrays.toString(d)
                    + ", expected [classes, features]; " + notFoundHint(file, arch));
        }
        return Math.toIntExact(d[0]);
    }

    private static void copy(Target t, OnnxImportFile file, String arch, Set<String> used) {
        Layer l = t.layer();
        org.deeplearning4j.nn.conf.layers.Layer conf = l.conf().getLayer();
        String p = t.torchPrefix();
        if (conf instanceof BatchNormalization bn) {
            set(l, "gamma", take(file, p + ".weight", l.getParam("gamma").length(), t, arch, used));
            set(l, "beta", take(file, p + ".bias", l.getParam("beta").length(), t, arch, used));
            set(l, "mean", take(file, p + ".running_mean", l.getParam("mean").length(), t, arch, used));
            INDArray var = take(file, p + ".running_var", l.getParam("beta").length(), t, arch, used);
            if (bn.isUseLogStd()) {
                // DL4J keeps log10(sqrt(var)) rather than the variance (BatchNormalization.useLogStd, its default) and
                // adds eps at inference as PyTorch does (M2.1 bytecode: std = sqrt((10^x)^2 + eps))
                set(l, "log10stdev", Transforms.log(Transforms.sqrt(var, false), 10, false));
            } else {
                set(l, "var", var);
            }
        } else if (conf instanceof ConvolutionLayer) {
            // DL4J's conv weights are [out, in, kH, kW] (oihw) for either activation layout: PyTorch's own order
            set(l, "W", take(file, p + ".weight", l.getParam("W").shape(), t, arch, used));
            if (l.getParam("b") != null) set(l, "b", take(file, p + ".bias", l.getParam("b").length(), t, arch, used));
        } else if (conf instanceof FeedForwardLayer) {
            // DL4J's dense W is [in, out], torch.nn.Linear's weight [out, in]
            long[] w = l.getParam("W").shape();
            set(l, "W", take(file, p + ".weight", new long[] {w[1], w[0]}, t, arch, used).transpose());
            set(l, "b", take(file, p + ".bias", l.getParam("b").length(), t, arch, used));
        } else {
            throw new IllegalStateException("no import for layer " + t.zooName() + " (" + conf.getClass().getSimpleName() + ")");
        }
    }

    private static INDArray take(OnnxImportFile file, String tensor, long length, Target t, String arch, Set<String> used) {
        return take(file, tensor, new long[] {length}, t, arch, used);
    }

    /** The tensor, which must exist, be float32 and have exactly the expected shape (PyTorch's). */
    private static INDArray take(OnnxImportFile file, String name, long[] expected, Target t, String arch, Set<String> used) {
        String into = " (into " + arch + " layer " + t.zooName() + ")";
        String tensor = file.resolve(name);
        String shown = tensor.equals(name) ? name : name + " (stored as " + tensor + ")";
        if (!file.has(tensor)) {
            throw new IllegalArgumentException(file.where() + " has no tensor " + name + ", expected shape "
                    + Arrays.toString(expected) + into + ": " + notFoundHint(file, arch));
        }
        long[] found = file.dims(tensor);
        if (!Arrays.equals(found, expected)) {
            throw new IllegalArgumentException(file.where() + ": tensor " + shown + " has shape " + Arrays.toString(found)
                    + ", expected " + Arrays.toString(expected) + into + "; the file is not torchvision's "
                    + OnnxImportMapping.torchvisionName(arch) + " with these classes: set model.name to the architecture "
                    + "it was exported from, or export torchvision." + OnnxImportMapping.torchvisionName(arch)
                    + " (with " + EXPORT + ")");
        }
        if (!file.isFloat(tensor)) {
            throw new IllegalArgumentException(file.where() + ": tensor " + shown + " has ONNX data type "
                    + file.dataType(tensor) + ", expected 1 (float32)" + into + "; export the model in float32 (model.float())");
        }
        used.add(tensor);
        return file.floats(tensor);
    }

    private static void set(Layer l, String key, INDArray value) {
        INDArray param = l.getParam(key);
        param.assign(value.reshape(param.shape()));
    }

    /** Why a torchvision name may be missing, with what the file does hold. */
    private static String notFoundHint(OnnxImportFile file, String arch) {
        List<String> some = file.names().stream().limit(4).toList();
        return "its weights are named " + some + (file.names().size() > 4 ? "..." : "") + "; the importer expects "
                + "torchvision." + OnnxImportMapping.torchvisionName(arch) + "'s parameter names, which torch.onnx.export "
                + "keeps when it exports the torchvision model itself (not a wrapper, not a traced copy) with " + EXPORT;
    }
}
