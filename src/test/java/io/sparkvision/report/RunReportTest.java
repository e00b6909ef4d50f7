package io.sparkvision.report;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkvision.Schemas;
import io.sparkvision.evaluate.EvalResult;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class RunReportTest {
    /** A typed provenance, as a job passes it. */
    record Provenance(String codeVersion, Long seed, String host) {
    }

    /** A provenance with the fields the schema requires. */
    record FullProvenance(String codeVersion, String configOrigin, Map<String, Object> config, String sparkMaster,
                          int workers, String startedAt, String endedAt) {
    }

    private static final EvalResult EVAL = new EvalResult(4, 0.75, 1.0, 2, 0.5, List.of("a", "b"), new long[][] {{2, 0}, {1, 1}});
    private static final Report.Model MODEL = new Report.Model("lenet5", 61706, "1x28x28", "file:/runs/1/model.zip");
    private static final Report.Dataset DATASET = new Report.Dataset("tiny", "file:/data/tiny", "test",
            "sha256:" + "a".repeat(64), "sha256:" + "b".repeat(64));

    @Test
    void theReturnedReportHoldsTheProvenanceAsTheJsonObjectWritten() {
        Map<String, Object> report = Json.asMap(Report.of(EVAL, MODEL, DATASET, null, new Provenance("0.1.0+abc", 42L, null)));
        Map<?, ?> provenance = (Map<?, ?>) report.get("provenance");
        assertEquals("0.1.0+abc", provenance.get("codeVersion"));
        assertEquals(42L, ((Number) provenance.get("seed")).longValue());
        assertEquals(0.75, report.get("top1Accuracy"));
        assertEquals(0.25, (Double) report.get("top1Error"), 1e-12);
        assertFalse(report.containsKey("training"), "evaluate reports have no training part");
        assertEquals(List.of(Map.of("trueClass", "b", "predictedClass", "a", "count", 1L)), report.get("mostConfused"));
    }

    @Test
    void theWrittenReportMatchesTheSchemaWithItsFieldsInOrder(@TempDir Path dir) throws IOException {
        Report report = Report.of(EVAL, MODEL, DATASET, new Report.Training(2, 3.5, 114.3, 2, "parameter-averaging"),
                new FullProvenance("0.1.0+abc", "jobs/mnist.conf", Map.of("train.epochs", 2), "local[2]", 2,
                        "2026-12-01T20:00:00Z", "2026-12-01T20:01:00Z"));
        RunReport.write(dir.toUri().toString(), report, List.of(), EVAL, "a test report", new Configuration());
        JsonNode json = Schemas.read(dir.resolve(RunReport.JSON));
        Schemas.assertValid("report.schema.json", json, "report.json");
        List<String> fields = new ArrayList<>();
        json.fieldNames().forEachRemaining(fields::add);
        assertEquals(List.of("formatVersion", "top1Accuracy", "top5Accuracy", "top1Error", "top5Error", "topK", "loss",
                "examples", "classes", "perClass", "confusionMatrix", "mostConfused", "model", "dataset", "training",
                "provenance"), fields, "the field order report.json always had");
        assertEquals(2, json.at("/topK").asInt());
        assertEquals(1, json.at("/confusionMatrix/1/0").asLong());
        assertEquals("parameter-averaging", json.at("/training/trainingMaster").asText());
    }
}
