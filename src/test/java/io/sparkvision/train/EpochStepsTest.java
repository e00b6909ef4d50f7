package io.sparkvision.train;

import io.sparkvision.Schemas;
import io.sparkvision.config.JobConfig;
import io.sparkvision.io.BackgroundWriter;
import io.sparkvision.train.CheckpointStore;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The epoch loop's steps that need no Spark: the metrics line and its log, and the checkpoint policy. */
class EpochStepsTest {
    private static final Configuration CONF = new Configuration();
    private static final EpochClock.Times TIMES = new EpochClock.Times(1.5, 3, 1.2, 0.2, 0.1, 0.05, 2.0);

    @TempDir
    Path dir;

    @Test
    void aMetricsLineIsSchemaValidAndLeavesOutWhatNobodyMeasured() throws IOException {
        MetricsLine fitOnly = MetricsLine.fitted(1, null, 0.01, Double.NaN, 640, null, 2.0)
                .evaluated(null, null, null, "2026-12-01T10:00:00Z").withTimes(TIMES);
        String json = Json.line(fitOnly);
        Schemas.assertValid("metrics.schema.json", Schemas.parse(json), "unevaluated line");
        for (String absent : List.of("iteration", "trainLoss", "top1Accuracy", "testLoss", "gradientSharing")) {
            assertFalse(json.contains("\"" + absent + "\""), absent + " in " + json);
        }
        MetricsLine full = MetricsLine.fitted(2, 20L, 0.01, 0.4, 640, Map.of("meshNodes", 2, "workers", List.of()), 2.0)
                .evaluated(0.3, 0.9, 0.99, "2026-12-01T10:00:02Z").withTimes(TIMES);
        Schemas.assertValid("metrics.schema.json", Schemas.parse(Json.line(full)), "evaluated line");
        assertEquals(0.1, full.top1Error(), 1e-12);
        assertEquals(320.0, full.examplesPerSecond(), 1e-9);
        assertEquals(full, Json.read(Json.line(full), MetricsLine.class), "a resumed run reads back what was written");
    }

    @Test
    void theLogKeepsEpochsUpToTheCheckpointWhenResumed() throws IOException {
        MetricsLog log = new MetricsLog(dir.toString(), CONF);
        for (int e = 1; e <= 3; e++) {
            log.add(MetricsLine.fitted(e, 10L * e, 0.01, 0.5, 640, null, 2.0).evaluated(0.3, 0.9, 0.99, "t"));
            log.completeLast(log.lines().get(e - 1).withTimes(TIMES));
        }
        assertEquals(3, Files.readAllLines(dir.resolve(MetricsLog.FILE)).size());
        MetricsLog resumed = new MetricsLog(dir.toString(), CONF);
        resumed.resumeAfter(2);
        assertEquals(List.of(1, 2), resumed.lines().stream().map(MetricsLine::epoch).toList());
        assertEquals(20, resumed.lastIteration());
        MetricsLog fresh = new MetricsLog(dir.resolve("elsewhere").toString(), CONF);
        fresh.resumeAfter(2);
        assertTrue(fresh.lines().isEmpty(), "no earlier metrics file: nothing to resume");
        assertEquals(0, fresh.lastIteration());
    }

    @Test
    void checkpointsFollowThePolicy() throws IOException {
        JobConfig cfg = JobConfig.fromString("train.epochs = 10\ncheckpoint.every-epochs = 3\ncheckpoint.every-minutes = 1");
        try (BackgroundWriter writer = new BackgroundWriter()) {
            Checkpointer c = new Checkpointer(new CheckpointStore(dir.toString(), CONF, 2), writer, cfg);
            long now = System.nanoTime();
            assertFalse(c.due(1, false, now));
            assertTrue(c.due(3, false, now), "every 3 epochs");
            assertTrue(c.due(4, true, now), "when stopping early");
            assertTrue(c.due(10, false, now), "after the last epoch");
            assertTrue(c.due(5, false, now + 61_000_000_000L), "a minute after the previous checkpoint");
        }
    }
}
