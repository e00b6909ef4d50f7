package io.sparkvision.score;

import io.sparkvision.image.ImagePreparation;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.ModelMetadata;
import io.sparkvision.util.Hashing;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;

import java.io.IOException;

/**
 * Step 1 of scoring: the saved model, checked against its own description, and the {@link Scorer} that prepares
 * raw images as the model's training images were.
 *
 * @param path  the model zip (a registry directory resolved to its current production model)
 * @param bytes the zip's bytes, as sent to the executors
 */
public record ScoringModel(Path path, byte[] bytes, Scorer scorer) {

    /** Loads the model {@code modelOrPointer} names, resolved once for the whole job. */
    public static ScoringModel load(Path modelOrPointer, int topK, int batchSize, Configuration conf) throws IOException {
        Path path = ModelFiles.resolve(modelOrPointer, conf);
        Model model = ModelFiles.load(path, conf);
        ModelMetadata meta = ModelFiles.readMetadata(path, conf);
        String where = ModelFiles.metadataPath(path).toString();
        if (meta == null || meta.classes() == null) {
            throw new IllegalArgumentException(path + " has no " + ModelFiles.metadataPath(path).getName()
                    + " beside it (class names, input shape, normalisation); score models saved by sparkvision's train job");
        }
        ModelMetadata.requireCompatible(meta, model, "cannot score with " + path, "its metadata", null, null,
                meta.classes(), null, "score models saved by sparkvision's train job");
        byte[] bytes = HadoopFs.readAll(path, conf);
        // Models that record no preparation predate it and get today's defaults (shorter-side-crop, area averaging,
        // white background, the input's channels).
        ImagePreparation preparation = ImagePreparation.ofModel(meta.preparation(), meta.inputShape(), where);
        Scorer scorer = new Scorer(String.valueOf(meta.architecture()), Hashing.sha256(bytes), preparation, meta.mean(),
                meta.std(), meta.classes(), topK, batchSize);
        return new ScoringModel(path, bytes, scorer);
    }
}
