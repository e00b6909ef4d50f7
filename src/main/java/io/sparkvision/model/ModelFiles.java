package io.sparkvision.model;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.util.Hashing;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.util.ModelSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
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

    /**
     * A model pointer: a directory holding a {@code current} JSON file whose {@code "model"} names a model zip. The
     * model registry of the retrain job (retrain.Registry) publishes its production model this way, so scoring jobs
     * can say {@code --model hdfs://.../registry} and follow promotions. The format is defined here, where it is
     * read; the registry writes it through these names.
     */
    public static final String POINTER_FILE = "current";
    /** The pointer's field naming the model zip's URI. */
    public static final String POINTER_MODEL = "model";

    /** The model a pointer directory names (see {@link #POINTER_FILE}); any other path is itself. */
    @SuppressWarnings("unchecked")
    public static Path resolve(Path zipOrPointer, Configuration conf) throws IOException {
        if (zipOrPointer.getName().endsWith(".zip")) return zipOrPointer;
        Path pointer = new Path(zipOrPointer, POINTER_FILE);
        if (!HadoopFs.exists(pointer, conf) || !HadoopFs.fs(zipOrPointer, conf).getFileStatus(zipOrPointer).isDirectory()) {
            return zipOrPointer;
        }
        Object model = Json.read(HadoopFs.readString(pointer, conf), Map.class).get(POINTER_MODEL);
        if (model == null) {
            throw new IllegalArgumentException(pointer + " names no model (no \"" + POINTER_MODEL
                    + "\"); it is not a sparkvision model pointer");
        }
        return HadoopFs.path(String.valueOf(model));
    }

    /** Restores a layer stack or a graph, with its updater state, whichever the zip holds (or the model a pointer directory names). */
    public static Model load(Path zip, Configuration conf) throws IOException {
        zip = resolve(zip, conf);
        if (!HadoopFs.exists(zip, conf)) throw new IllegalArgumentException("model " + zip + " does not exist");
        try {
            return fromBytes(HadoopFs.readAll(zip, conf));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(zip + " is not a model saved by sparkvision or DL4J: " + e.getMessage(), e);
        }
    }

    /** A model from the bytes of its zip (as broadcast to executors). */
    public static Model fromBytes(byte[] bytes) throws IOException {
        Model m = isGraph(bytes) ? ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes), true)
                : ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes), true);
        io.sparkvision.model.onednn.NativePath.install(m);
        return m;
    }

    /**
     * The zip for inference: every entry but the updater state (Adam's is twice the parameters), stored uncompressed.
     * What the score job and the Spark ML scorers restore and ship to executors: DL4J's restore inflates every entry,
     * needed or not, so a trained ResNet-18 restored from its full zip inflated 134 MB for the 45 MB it scores with.
     */
    public static byte[] forInference(byte[] zipBytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(zipBytes.length);
        try (ZipInputStream zin = new ZipInputStream(new ByteArrayInputStream(zipBytes));
             java.util.zip.ZipOutputStream zout = new java.util.zip.ZipOutputStream(out)) {
            for (ZipEntry e; (e = zin.getNextEntry()) != null; ) {
                if (e.getName().equals(ModelSerializer.UPDATER_BIN)) continue;
                byte[] data = zin.readAllBytes();
                java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                crc.update(data);
                ZipEntry copy = new ZipEntry(e.getName());
                copy.setMethod(ZipEntry.STORED);
                copy.setSize(data.length);
                copy.setCompressedSize(data.length);
                copy.setCrc(crc.getValue());
                zout.putNextEntry(copy);
                zout.write(data);
                zout.closeEntry();
            }
        }
        return out.toByteArray();
    }

    /** What a model zip declares, read without restoring it: its output classes and the parameters it must hold. */
    public record Declared(long outputs, long params) {
    }

    /**
     * Checks a model zip without restoring it (DL4J's restore reads every parameter through a DataInputStream: most of
     * a second for ResNet-18 on the score job's driver, which only needs the output count): the configuration parses
     * as DL4J's, and {@code coefficients.bin} holds at least as many bytes as the configuration's parameters need.
     *
     * @throws IOException naming what is missing or wrong
     */
    public static Declared declared(byte[] zipBytes) throws IOException {
        String json = null;
        long coefficientBytes = -1;
        try (ZipInputStream zin = new ZipInputStream(new ByteArrayInputStream(zipBytes))) {
            for (ZipEntry e; (e = zin.getNextEntry()) != null; ) {
                if (e.getName().equals("configuration.json")) json = new String(zin.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                else if (e.getName().equals("coefficients.bin")) coefficientBytes = zin.transferTo(java.io.OutputStream.nullOutputStream());
            }
        }
        if (json == null) throw new IOException("no configuration.json in the zip");
        if (coefficientBytes < 0) throw new IOException("no coefficients.bin (the parameters) in the zip");
        long params = 0, outputs;
        if (json.contains("\"vertices\"")) {
            var conf = org.deeplearning4j.nn.conf.ComputationGraphConfiguration.fromJson(json);
            for (var v : conf.getVertices().values())
                if (v instanceof org.deeplearning4j.nn.conf.graph.LayerVertex lv)
                    params += lv.getLayerConf().getLayer().initializer().numParams(lv.getLayerConf());
            var out = (org.deeplearning4j.nn.conf.graph.LayerVertex) conf.getVertices().get(conf.getNetworkOutputs().get(0));
            outputs = ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) out.getLayerConf().getLayer()).getNOut();
        } else {
            var conf = org.deeplearning4j.nn.conf.MultiLayerConfiguration.fromJson(json);
            for (var c : conf.getConfs()) params += c.getLayer().initializer().numParams(c);
            outputs = ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) conf.getConf(conf.getConfs().size() - 1).getLayer()).getNOut();
        }
        if (coefficientBytes < 4 * params) {
            throw new IOException("coefficients.bin holds " + coefficientBytes + " bytes, fewer than the " + params
                    + " float parameters its configuration needs (a truncated or foreign file)");
        }
        return new Declared(outputs, params);
    }

    /** A graph's configuration.json has "vertices"; a layer stack's has "confs". */
    private static boolean isGraph(byte[] zipBytes) throws IOException {
        try (ZipInputStream zin = new ZipInputStream(new ByteArrayInputStream(zipBytes))) {
            for (ZipEntry e; (e = zin.getNextEntry()) != null; ) {
                if (e.getName().equals("configuration.json")) {
                    String json = new String(zin.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                    return json.contains("\"vertices\"");
                }
            }
        }
        throw new IOException("no configuration.json inside");
    }

    /** The metadata saved with a model, or null for a bare DL4J zip. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> metadata(Path zip, Configuration conf) throws IOException {
        Path meta = metadataPath(resolve(zip, conf));
        if (!HadoopFs.exists(meta, conf)) return null;
        return Json.read(HadoopFs.readString(meta, conf), Map.class);
    }

    /** The metadata saved with a model as its record, or null for a bare DL4J zip. */
    public static ModelMetadata readMetadata(Path zip, Configuration conf) throws IOException {
        return ModelMetadata.fromMap(metadata(zip, conf), metadataPath(resolve(zip, conf)).toString());
    }

    /** Saves the model with its record (see {@link #save(Model, Path, Map, Configuration)}). */
    public static void save(Model net, Path zip, ModelMetadata metadata, Configuration conf) throws IOException {
        save(net, zip, metadata.toMap(), conf);
    }

}
