package io.sparkvision.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.sparkvision.image.ImagePreparation;
import io.sparkvision.image.InputShape;
import io.sparkvision.util.Json;
import org.deeplearning4j.nn.api.Model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A saved model's {@code NAME.json} (data-schemas/model-metadata.schema.json): what the model is, what it was
 * trained on and how. The field names are the file's; unknown fields are ignored, so files of other versions load.
 * Checkpoints add formatVersion, epoch, iteration and their metrics line; {@link ModelFiles#save} adds the last three.
 *
 * @param input       the input shape as {@link InputShape#toString()} writes it ("CxHxW")
 * @param preparation how the training images were prepared (null in models that predate it)
 * @param provenance  the run's provenance as written (an object no job reads field by field)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"formatVersion", "epoch", "iteration", "architecture", "input", "classes", "mean", "std", "preparation",
        "dataset", "metrics", "provenance", "parameters", "modelFile", "modelBytes", "modelSha256"})
public record ModelMetadata(Integer formatVersion, Integer epoch, Long iteration, String architecture, String input,
                            List<String> classes, double[] mean, double[] std, ImagePreparation preparation,
                            Dataset dataset, Map<String, Object> metrics, Map<String, Object> provenance, Long parameters,
                            String modelFile, Long modelBytes, String modelSha256) {

    /** The dataset and split the model was evaluated on while training (the report's dataset part). */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Dataset(String name, String root, String split, String contentHash, String manifestHash) {
    }

    /** A model as the train job describes it before saving. */
    public static ModelMetadata of(String architecture, InputShape input, List<String> classes, double[] mean, double[] std,
                                   ImagePreparation preparation, Dataset dataset, Map<String, Object> provenance) {
        return new ModelMetadata(null, null, null, architecture, input.toString(), classes, mean, std, preparation, dataset,
                null, provenance, null, null, null, null);
    }

    /**
     * From a parsed NAME.json. The preparation is read by {@link ImagePreparation#recordedIn}, which names the file
     * when it is malformed.
     */
    public static ModelMetadata fromMap(Map<String, Object> json, String where) {
        if (json == null) return null;
        Map<String, Object> rest = new LinkedHashMap<>(json);
        ImagePreparation preparation = ImagePreparation.recordedIn(rest, where);
        rest.remove("preparation");
        try {
            return Json.MAPPER.convertValue(rest, ModelMetadata.class).withPreparation(preparation);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + " is not a sparkvision model description: " + e.getMessage(), e);
        }
    }

    /** As written to NAME.json (absent fields left out). */
    public Map<String, Object> toMap() {
        return Json.asMap(this);
    }

    public InputShape inputShape() {
        return input == null ? null : InputShape.parse(input);
    }

    public ModelMetadata withPreparation(ImagePreparation p) {
        return new ModelMetadata(formatVersion, epoch, iteration, architecture, input, classes, mean, std, p, dataset,
                metrics, provenance, parameters, modelFile, modelBytes, modelSha256);
    }

    public ModelMetadata withParameters(long n) {
        return new ModelMetadata(formatVersion, epoch, iteration, architecture, input, classes, mean, std, preparation,
                dataset, metrics, provenance, n, modelFile, modelBytes, modelSha256);
    }

    /**
     * The one check that a saved model fits a job's data, for train (resume, warm start), evaluate and score. An
     * argument left null is not checked; {@code meta} may be null (a bare DL4J zip: only its outputs are checked).
     *
     * @param refusal how the message begins: what cannot be done with which model
     * @param data    the data the job has, for the message ("dataset hdfs://.../data", "this job")
     * @param fix     how the message ends: what the user can do
     */
    public static void requireCompatible(ModelMetadata meta, Model net, String refusal, String data, String architecture,
                                         InputShape input, List<String> classes, ImagePreparation preparation, String fix) {
        if (net != null && classes != null && Models.outputs(net) != classes.size()) {
            throw refused(refusal, "the model has " + Models.outputs(net) + " outputs but " + data + " has "
                    + classes.size() + " classes", fix);
        }
        if (meta == null) return;
        if ((architecture != null && !architecture.equals(meta.architecture()))
                || (input != null && !input.toString().equals(meta.input()))) {
            throw refused(refusal, "it holds " + meta.architecture() + " on " + meta.input() + " with "
                    + "classes " + abbreviate(meta.classes()) + ", " + data + " is " + (architecture == null ? meta.architecture() : architecture)
                    + " on " + (input == null ? meta.input() : input) + " with " + (classes == null ? "any" : classes.size()) + " classes", fix);
        }
        if (classes != null && meta.classes() != null && !meta.classes().equals(classes)) {
            throw refused(refusal, "it was trained on classes " + abbreviate(meta.classes()) + " but " + data + " has "
                    + abbreviate(classes) + "; the class index must match", fix);
        }
        // Images must be prepared as the model's training images were, or what is measured or predicted is that of
        // other inputs (a letterboxed set scored by a model trained on crops, another background, another size).
        // Only how the images are stored must agree: what the model takes of them (inputSize) is the model's own.
        ImagePreparation trained = meta.preparation() == null ? null : meta.preparation().stored();
        if (trained != null && preparation != null && !trained.equals(preparation.stored())) {
            throw refused(refusal, "it was trained on images prepared as " + trained + " but " + data
                    + " holds images prepared as " + preparation + "; re-ingest the images with ingest.image-size = "
                    + trained.size() + ", ingest.resize = " + trained.resize() + ", ingest.channels = " + trained.channels()
                    + ", ingest.background = \"" + trained.background() + "\"", fix);
        }
    }

    private static IllegalArgumentException refused(String refusal, String why, String fix) {
        return new IllegalArgumentException(refusal + ": " + why + "; " + fix);
    }

    private static String abbreviate(List<String> l) {
        if (l == null) return "(not recorded)";
        return l.size() <= 12 ? l.toString() : l.subList(0, 12) + "... (" + l.size() + ")";
    }
}
