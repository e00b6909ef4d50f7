package io.sparkvision.score;

import io.sparkvision.image.ImagePreparation;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.ModelMetadata;
import io.sparkvision.util.Hashing;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.List;

/**
 * A trained model as scoring needs it, read and checked on the driver: the zip's bytes (to ship to executors) and
 * the contract of its model.json (class names, preparation, normalisation). The same checks as the score job's, so a
 * model that job refuses is refused here with the same words.
 *
 * @param zip         the model zip (a registry pointer already resolved)
 * @param modelId     the architecture model.json names
 * @param version     sha256 of the zip's bytes: what executors key their restored copies by
 * @param bytes       the zip without its updater state ({@link ModelFiles#forInference}): what executors restore
 * @param modifiedAt  the zip's modification time, part of the driver's cache key
 */
public record ScoringModel(Path zip, String modelId, String version, long modifiedAt, byte[] bytes,
                           ImagePreparation preparation, double[] mean, double[] std, List<String> classes) {

    /** Reads {@code zipOrPointer} (a model.zip, or a registry directory naming one) and its model.json. */
    public static ScoringModel read(Path zipOrPointer, Configuration conf) throws IOException {
        Path zip = ModelFiles.resolve(zipOrPointer, conf);
        if (!HadoopFs.exists(zip, conf)) {
            throw new IllegalArgumentException("model " + zip + " does not exist; give the model.zip a train job wrote "
                    + "(or a model registry directory)");
        }
        FileStatus status = HadoopFs.fs(zip, conf).getFileStatus(zip);
        ModelMetadata meta = ModelFiles.readMetadata(zip, conf);
        if (meta == null || meta.classes() == null) {
            throw new IllegalArgumentException(zip + " has no " + ModelFiles.metadataPath(zip).getName()
                    + " beside it (class names, input shape, normalisation); score models saved by sparkvision's train job");
        }
        byte[] bytes = HadoopFs.readAll(zip, conf);
        String version = Hashing.sha256(bytes);
        ModelFiles.Declared declared;
        try {
            bytes = ModelFiles.forInference(bytes); // what executors restore: no updater state to inflate
            declared = ModelFiles.declared(bytes); // checked here, restored only on the executors
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(zip + " is not a model saved by sparkvision or DL4J: " + e.getMessage(), e);
        }
        List<String> classes = meta.classes();
        if (declared.outputs() != classes.size()) {
            throw new IllegalArgumentException("cannot score with " + zip + ": the model has " + declared.outputs() + " outputs but its metadata has "
                    + classes.size() + " classes; score models saved by sparkvision's train job");
        }
        ModelMetadata.requireCompatible(meta, null, "cannot score with " + zip, "its metadata", null, null, classes, null,
                "score models saved by sparkvision's train job");
        // Models that record no preparation predate it and get today's defaults (shorter-side-crop, area averaging,
        // white background, the input's channels).
        ImagePreparation preparation = ImagePreparation.ofModel(meta.preparation(), meta.inputShape(),
                ModelFiles.metadataPath(zip).toString());
        return new ScoringModel(zip, String.valueOf(meta.architecture()), version, status.getModificationTime(),
                bytes, preparation, meta.mean(), meta.std(), classes);
    }

    /** The score job's executor side for this model: {@code topK} classes per image, {@code batchSize} images a forward pass. */
    public Scorer scorer(int topK, int batchSize) {
        return new Scorer(modelId, version, preparation, mean, std, classes, topK, batchSize);
    }

    /** What scores images with this model's contract, reporting the {@code topK} most probable classes. */
    public ImagePredictor predictor(int topK) {
        return new ImagePredictor(preparation, mean, std, classes, topK);
    }
}
