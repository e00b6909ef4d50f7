package io.sparkvision.model.onnx;

import io.sparkvision.image.ImagePreparation;
import io.sparkvision.image.InputShape;
import io.sparkvision.model.ModelMetadata;
import io.sparkvision.util.Json;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The preparation contract an exported model carries in its ONNX metadata_props (string to string), so a server
 * elsewhere prepares images as the train and score jobs do: data-schemas/onnx-metadata.md lists the keys. Lists are
 * JSON arrays; everything else is plain text.
 */
public final class OnnxExportMetadata {
    public static final String FORMAT = "sparkvision.format";
    public static final String ARCHITECTURE = "sparkvision.architecture";
    /** CxHxW, as model.json's "input". */
    public static final String INPUT_SHAPE = "sparkvision.input.shape";
    /** Always NCHW: the graph takes what ImagePreparer produces, whatever layout DL4J computes in. */
    public static final String INPUT_LAYOUT = "sparkvision.input.layout";
    /** How pixel values become the input: a sentence with the formula, for readers of the file. */
    public static final String NORMALIZATION = "sparkvision.input.normalization";
    public static final String MEAN = "sparkvision.input.mean";
    public static final String STD = "sparkvision.input.std";
    public static final String SIZE = "sparkvision.preparation.size";
    public static final String RESIZE = "sparkvision.preparation.resize";
    public static final String CHANNELS = "sparkvision.preparation.channels";
    public static final String BACKGROUND = "sparkvision.preparation.background";
    /** The class names in output order, a JSON array. */
    public static final String CLASSES = "sparkvision.classes";
    /** SHA-256 of the model.zip the graph was exported from, when its metadata records it. */
    public static final String SOURCE_SHA256 = "sparkvision.source.sha256";

    private OnnxExportMetadata() {
    }

    /**
     * The keys for a saved model: its input shape, preparation (the score job's defaults where the model records
     * none, which is what the score job would use), normalisation and classes. {@code meta} null (a bare DL4J zip):
     * only the shape and layout.
     */
    public static Map<String, String> of(ModelMetadata meta, InputShape input, String where) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(FORMAT, "1");
        if (meta != null && meta.architecture() != null) m.put(ARCHITECTURE, meta.architecture());
        m.put(INPUT_SHAPE, input.toString());
        m.put(INPUT_LAYOUT, "NCHW");
        if (meta == null) return m;
        if (meta.mean() != null && meta.std() != null) {
            m.put(NORMALIZATION, "x[c] = (pixel[c] / 255 - mean[c]) / std[c], pixel in 0..255, RGB order (or grey), "
                    + "one mean/std for all channels when the lists have one value");
            m.put(MEAN, Json.line(meta.mean()).trim());
            m.put(STD, Json.line(meta.std()).trim());
        }
        ImagePreparation p = ImagePreparation.ofModel(meta.preparation(), input, where);
        m.put(SIZE, Integer.toString(p.size()));
        m.put(RESIZE, p.resize());
        m.put(CHANNELS, Integer.toString(p.channels()));
        m.put(BACKGROUND, p.background());
        if (meta.classes() != null) m.put(CLASSES, Json.line(meta.classes()).trim());
        if (meta.modelSha256() != null) m.put(SOURCE_SHA256, meta.modelSha256());
        return m;
    }

    /** The class names an exported model records, or null. */
    public static List<String> classes(Map<String, String> props) {
        String c = props.get(CLASSES);
        if (c == null) return null;
        List<?> l = Json.read(c, List.class);
        return l.stream().map(String::valueOf).toList();
    }
}
