package io.sparkvision.io;

import io.sparkvision.util.Hashing;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * A saved model is two files on any Hadoop URI: {@code NAME.zip} (DL4J's ModelSerializer format, with updater
 * state) and {@code NAME.json} beside it (class index, input shape, provenance). Checkpoints use the same pair.
 */
public final class ModelFiles {
    private ModelFiles() {
    }

    public static Path metadataPath(Path zip) {
        String name = zip.getName();
        return new Path(zip.getParent(), (name.endsWith(".zip") ? name.substring(0, name.length() - 4) : name) + ".json");
    }

    /** Writes the zip atomically, then the metadata (with the zip's size and hash), which commits the pair. */
    public static void save(Model net, Path zip, Map<String, Object> metadata, Configuration conf) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net, bytes, true);
        byte[] model = bytes.toByteArray();
        HadoopFs.writeAtomically(zip, conf, out -> out.write(model));
        Map<String, Object> meta = new LinkedHashMap<>(metadata);
        meta.put("modelFile", zip.getName());
        meta.put("modelBytes", model.length);
        meta.put("modelSha256", Hashing.sha256(model));
        HadoopFs.writeStringAtomically(metadataPath(zip), Json.pretty(meta), conf);
    }

    public static MultiLayerNetwork load(Path zip, Configuration conf) throws IOException {
        if (!HadoopFs.exists(zip, conf)) throw new IllegalArgumentException("model " + zip + " does not exist");
        try (InputStream in = HadoopFs.open(zip, conf)) {
            return ModelSerializer.restoreMultiLayerNetwork(in, true);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(zip + " is not a model saved by sparkvision or DL4J: " + e.getMessage(), e);
        }
    }

    /**
     * Loads a MultiLayerNetwork or a ComputationGraph, whichever the zip holds (ResNet, GoogLeNet, DenseNet and
     * MobileNetV2 are graphs). DL4J's zip has configuration.json: a graph's lists "vertices", a stack's "confs".
     */
    public static Model loadAny(Path zip, Configuration conf) throws IOException {
        if (!HadoopFs.exists(zip, conf)) throw new IllegalArgumentException("model " + zip + " does not exist");
        byte[] bytes;
        try (InputStream in = HadoopFs.open(zip, conf)) {
            bytes = in.readAllBytes();
        }
        try {
            return isGraph(bytes) ? ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes), true)
                    : ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes), true);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(zip + " is not a model saved by sparkvision or DL4J: " + e.getMessage(), e);
        }
    }

    private static boolean isGraph(byte[] zipBytes) throws IOException {
        try (ZipInputStream z = new ZipInputStream(new ByteArrayInputStream(zipBytes))) {
            for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
                if (e.getName().equals("configuration.json")) {
                    String json = new String(z.readAllBytes(), StandardCharsets.UTF_8);
                    return json.contains("\"vertices\"");
                }
            }
        }
        throw new IllegalArgumentException("not a DL4J model zip: no configuration.json");
    }

    /** The metadata saved with a model, or null for a bare DL4J zip. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> metadata(Path zip, Configuration conf) throws IOException {
        Path meta = metadataPath(zip);
        if (!HadoopFs.exists(meta, conf)) return null;
        return Json.read(HadoopFs.readString(meta, conf), Map.class);
    }

    @SuppressWarnings("unchecked")
    public static List<String> classes(Map<String, Object> metadata) {
        return metadata == null ? null : (List<String>) metadata.get("classes");
    }
}
