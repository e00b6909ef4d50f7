package io.sparkvision.model.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.sparkvision.cli.Main;
import io.sparkvision.image.ImagePreparation;
import io.sparkvision.image.InputShape;
import io.sparkvision.model.Architectures;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.ModelMetadata;
import io.sparkvision.model.Models;
import io.sparkvision.util.Json;
import onnx.OnnxMl;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.api.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sparkvision models export MODEL.zip --onnx out.onnx} on a saved model: the ONNX file carries the model's
 * preparation contract in its metadata (read back by protobuf and by ONNX Runtime), and images prepared by that
 * contract give the saved model's answers in ONNX Runtime.
 */
class OnnxExportCommandTest {
    @TempDir
    Path dir;

    @Test
    void exportsASavedModelWithItsPreparationContract() throws Exception {
        InputShape in = new InputShape(3, 32, 32);
        List<String> classes = List.of("cat", "dog", "bird");
        // keep-aspect onto a coloured background, not the defaults: the metadata must carry what was recorded
        ImagePreparation prep = new ImagePreparation(32, ImagePreparation.KEEP_ASPECT, 3, "#102030");
        double[] mean = {0.5, 0.4, 0.3}, std = {0.25, 0.2, 0.3};
        Model net = Architectures.get("mobilenetv2").build(in, classes.size(), 5, new Sgd(0.1), 0);
        OnnxExportCheck.setBatchNormStatistics(net, 3);
        org.apache.hadoop.fs.Path zip = new org.apache.hadoop.fs.Path(dir.resolve("model.zip").toUri());
        ModelFiles.save(net, zip, ModelMetadata.of("mobilenetv2", in, classes, mean, std, prep, null, Map.of()), new Configuration());
        net.close();

        Path onnx = dir.resolve("out/model.onnx");
        assertEquals(0, Main.execute("models", "export", dir.resolve("model.zip").toString(), "--onnx", onnx.toString()));

        OnnxMl.ModelProto proto;
        try (InputStream s = Files.newInputStream(onnx)) {
            proto = OnnxMl.ModelProto.parseFrom(s);
        }
        assertEquals(OnnxExporter.OPSET, proto.getOpsetImport(0).getVersion());
        Map<String, String> props = new LinkedHashMap<>();
        proto.getMetadataPropsList().forEach(e -> props.put(e.getKey(), e.getValue()));
        assertEquals("mobilenetv2", props.get(OnnxExportMetadata.ARCHITECTURE));
        assertEquals("3x32x32", props.get(OnnxExportMetadata.INPUT_SHAPE));
        assertEquals("NCHW", props.get(OnnxExportMetadata.INPUT_LAYOUT));
        assertEquals("32", props.get(OnnxExportMetadata.SIZE));
        assertEquals("keep-aspect", props.get(OnnxExportMetadata.RESIZE));
        assertEquals("3", props.get(OnnxExportMetadata.CHANNELS));
        assertEquals("#102030", props.get(OnnxExportMetadata.BACKGROUND));
        assertArrayEquals(mean, Json.doubles(Json.read(props.get(OnnxExportMetadata.MEAN), List.class)));
        assertArrayEquals(std, Json.doubles(Json.read(props.get(OnnxExportMetadata.STD), List.class)));
        assertEquals(classes, OnnxExportMetadata.classes(props));
        assertEquals(ModelFiles.readMetadata(zip, new Configuration()).modelSha256(), props.get(OnnxExportMetadata.SOURCE_SHA256));
        proto = null;

        // ONNX Runtime reads the same keys (what a server would use)
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(onnx.toString(), new OrtSession.SessionOptions())) {
            assertEquals(props, s.getMetadata().getCustomMetadata());
            assertEquals(List.of(OnnxExporter.PROBABILITIES, OnnxExporter.LOGITS), List.copyOf(s.getOutputNames()));
        }

        // images prepared by the contract read back from the file: the saved model's answers
        ImagePreparation read = new ImagePreparation(Integer.parseInt(props.get(OnnxExportMetadata.SIZE)), props.get(OnnxExportMetadata.RESIZE),
                Integer.parseInt(props.get(OnnxExportMetadata.CHANNELS)), props.get(OnnxExportMetadata.BACKGROUND));
        float[] x = OnnxExportCheck.preparedImages(read, Json.doubles(Json.read(props.get(OnnxExportMetadata.MEAN), List.class)),
                Json.doubles(Json.read(props.get(OnnxExportMetadata.STD), List.class)), OnnxExportCheck.IMAGES, 3);
        Model loaded = ModelFiles.load(zip, new Configuration());
        float[] probs = Models.output(loaded, Nd4j.create(x, new long[] {OnnxExportCheck.IMAGES, 3, 32, 32}, 'c')).dup('c').data().asFloat();
        loaded.close();
        float[][] ort = OnnxExportCheck.runOnnx(onnx, x, in);
        assertArrayEquals(OnnxExportCheck.top1(probs, classes.size()), OnnxExportCheck.top1(ort[1], classes.size()));
        for (int i = 0; i < probs.length; i++) assertEquals(probs[i], ort[1][i], 1e-5, "probability " + i);
    }

    @Test
    void aBareDl4jZipNeedsItsInputShape() throws Exception {
        Model net = Architectures.get("lenet5").build(new InputShape(1, 28, 28), 10, 1, new Sgd(0.1), 0);
        Path zip = dir.resolve("bare.zip");
        org.deeplearning4j.util.ModelSerializer.writeModel(net, zip.toFile(), false);
        Path onnx = dir.resolve("bare.onnx");
        assertEquals(2, Main.execute("models", "export", zip.toString(), "--onnx", onnx.toString()), "no model.json, no --input");
        assertFalse(Files.exists(onnx));
        assertEquals(0, Main.execute("models", "export", zip.toString(), "--onnx", onnx.toString(), "--input", "1x28x28"));
        OnnxMl.ModelProto proto;
        try (InputStream s = Files.newInputStream(onnx)) {
            proto = OnnxMl.ModelProto.parseFrom(s);
        }
        Map<String, String> props = new LinkedHashMap<>();
        proto.getMetadataPropsList().forEach(e -> props.put(e.getKey(), e.getValue()));
        assertEquals("1x28x28", props.get(OnnxExportMetadata.INPUT_SHAPE));
        assertTrue(!props.containsKey(OnnxExportMetadata.MEAN) && !props.containsKey(OnnxExportMetadata.CLASSES),
                "a bare zip records no normalisation or classes: " + props);
    }
}
