package io.sparkvision.retrain;

import io.sparkvision.Schemas;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The registry's typed files: written schema-valid (nulls included where the schema wants them) and read back. */
class RegistryRecordsTest {
    @TempDir
    java.nio.file.Path dir;

    @Test
    void theFirstNightWritesNullsForTheMissingCurrentModel() throws IOException {
        Registry registry = new Registry(new Path(dir.toUri()), new Configuration());
        HistoryEntry first = new HistoryEntry("2026-11-01", "2026-11-01", NightOutcome.PROMOTED, "first model: holdout top-1 0.9000",
                0.9, null, null, 0.005, "file:/r/candidates/2026-11-01/model.zip", 300, 300, "sha256:" + "a".repeat(64),
                "2026-11-01T03:00:00Z");
        registry.record(first);
        registry.promote(CurrentPointer.promote("2026-11-01", first.model(), "2026-11-01", 0.9, first.decidedAt(), null));
        String line = Files.readAllLines(dir.resolve(Registry.HISTORY)).get(0);
        assertTrue(line.contains("\"currentTop1\":null"), line);
        assertTrue(line.contains("\"outcome\":\"promoted\""), "the outcome is written by its label: " + line);
        Schemas.assertValid("registry-history.schema.json", Schemas.parse(line), "history line");
        Schemas.assertValid("registry-current.schema.json", Schemas.read(dir.resolve(Registry.CURRENT)), "current");
        assertEquals(List.of(first), registry.history());
        assertEquals(first, registry.decided("2026-11-01").orElseThrow());
        assertEquals(null, registry.current().orElseThrow().previous());
        assertEquals(Json.pretty(registry.current().orElseThrow()), Files.readString(dir.resolve(Registry.CURRENT)));
    }
}
