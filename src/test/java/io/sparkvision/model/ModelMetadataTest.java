package io.sparkvision.model;

import io.sparkvision.Schemas;
import io.sparkvision.image.ImagePreparation;
import io.sparkvision.image.InputShape;
import io.sparkvision.util.Json;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** model.json as a record: files written before the record existed read and write back byte for byte. */
class ModelMetadataTest {
    /** A run's model.json as the train job wrote it when it was a Map (provenance shortened). */
    static final String MODEL_JSON = """
            {
              "architecture" : "lenet5",
              "input" : "1x28x28",
              "classes" : [ "0", "1", "2" ],
              "mean" : [ 0.12823896058424342 ],
              "std" : [ 0.3051388396377876 ],
              "preparation" : {
                "size" : 28,
                "resize" : "shorter-side-crop",
                "channels" : 1,
                "background" : "#ffffff"
              },
              "dataset" : {
                "name" : "mnist",
                "root" : "file:/data/",
                "split" : "test",
                "contentHash" : "sha256:09a3e3968013296706c01ebf0ea1dfddb685060b566f54074b893c2ba402f676",
                "manifestHash" : null
              },
              "provenance" : {
                "codeVersion" : "0.1.0-SNAPSHOT+ec449a5",
                "config" : {
                  "train.seed" : 42
                }
              },
              "parameters" : 1256080,
              "modelFile" : "model.zip",
              "modelBytes" : 15097619,
              "modelSha256" : "sha256:76e315be5fed78d4a6fcc34a657124bf8f113f3f46d0d67c983b45deb8b52c46"
            }
            """;

    /** A checkpoint's epoch-NNNN.json (no provenance, no preparation: a model older than it). */
    static final String CHECKPOINT_JSON = """
            {
              "formatVersion" : 1,
              "epoch" : 2,
              "iteration" : 1874,
              "architecture" : "lenet5",
              "input" : "1x28x28",
              "classes" : [ "a", "b" ],
              "mean" : [ 0.5 ],
              "std" : [ 0.25 ],
              "dataset" : {
                "name" : "d",
                "root" : "file:/d/",
                "split" : "test",
                "contentHash" : "sha256:00",
                "manifestHash" : "sha256:11"
              },
              "metrics" : {
                "epoch" : 2,
                "top1Accuracy" : 0.9
              },
              "modelFile" : "epoch-0002.zip",
              "modelBytes" : 12,
              "modelSha256" : "sha256:76e315be5fed78d4a6fcc34a657124bf8f113f3f46d0d67c983b45deb8b52c46"
            }
            """;

    @SuppressWarnings("unchecked")
    static ModelMetadata read(String json) {
        return ModelMetadata.fromMap(Json.read(json, Map.class), "model.json");
    }

    @Test
    void existingFilesReadAndWriteBackByteForByte() throws IOException {
        for (String json : List.of(MODEL_JSON, CHECKPOINT_JSON)) {
            ModelMetadata m = read(json);
            assertEquals(json, Json.pretty(m.toMap()));
        }
        ModelMetadata m = read(MODEL_JSON);
        assertEquals(new InputShape(1, 28, 28), m.inputShape());
        assertEquals(new ImagePreparation(28, "shorter-side-crop", 1, "#ffffff"), m.preparation());
        assertEquals(List.of("0", "1", "2"), m.classes());
        Schemas.assertValid("model-metadata.schema.json", Schemas.parse(Json.pretty(m.toMap())), "model.json");
        // Fields of other versions are ignored, not refused.
        assertEquals("lenet5", read(MODEL_JSON.replace("\"architecture\"", "\"future\" : 1,\n  \"architecture\"")).architecture());
        assertEquals("mnist", read(MODEL_JSON.replace("\"name\" : \"mnist\"", "\"name\" : \"mnist\", \"future\" : 2")).dataset().name());
    }

    @Test
    void oneCompatibilityCheckNamesWhatDiffers() {
        ModelMetadata m = read(MODEL_JSON);
        ModelMetadata.requireCompatible(m, null, "r", "data", "lenet5", new InputShape(1, 28, 28), List.of("0", "1", "2"),
                new ImagePreparation(28, "shorter-side-crop", 1, "#ffffff"), "fix");
        String arch = assertThrows(IllegalArgumentException.class, () -> ModelMetadata.requireCompatible(m, null,
                "cannot continue from x", "this job", "allcnnc", null, null, null, "fix it")).getMessage();
        assertTrue(arch.startsWith("cannot continue from x: it holds lenet5 on 1x28x28") && arch.endsWith("; fix it"), arch);
        String classes = assertThrows(IllegalArgumentException.class, () -> ModelMetadata.requireCompatible(m, null, "r",
                "dataset d", null, null, List.of("0", "1", "nine"), null, "f")).getMessage();
        assertTrue(classes.contains("class index must match"), classes);
        String prep = assertThrows(IllegalArgumentException.class, () -> ModelMetadata.requireCompatible(m, null, "r",
                "dataset d", null, null, null, new ImagePreparation(28, "keep-aspect", 1, "#ffffff"), "f")).getMessage();
        assertTrue(prep.contains("ingest.resize = shorter-side-crop"), prep);
    }
}
