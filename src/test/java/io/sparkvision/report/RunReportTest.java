package io.sparkvision.report;

import io.sparkvision.evaluate.EvalResult;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class RunReportTest {
    /** A typed provenance, as a job passes it. */
    record Provenance(String codeVersion, Long seed, String host) {
    }

    @Test
    void theReturnedReportHoldsTheProvenanceAsTheJsonObjectWritten() {
        EvalResult r = new EvalResult(4, 0.75, 1.0, 2, 0.5, List.of("a", "b"), new long[][] {{2, 0}, {1, 1}});
        Map<String, Object> report = RunReport.json(r, Map.of("name", "lenet5"), Map.of("name", "tiny"), null,
                new Provenance("0.1.0+abc", 42L, null));
        Map<?, ?> provenance = (Map<?, ?>) report.get("provenance");
        assertEquals("0.1.0+abc", provenance.get("codeVersion"));
        assertEquals(42L, ((Number) provenance.get("seed")).longValue());
        assertEquals(0.75, report.get("top1Accuracy"));
        assertEquals(0.25, (Double) report.get("top1Error"), 1e-12);
        assertFalse(report.containsKey("training"), "evaluate reports have no training part");
        assertEquals(List.of(Map.of("trueClass", "b", "predictedClass", "a", "count", 1L)), report.get("mostConfused"));
    }
}
