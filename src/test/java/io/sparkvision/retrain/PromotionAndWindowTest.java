package io.sparkvision.retrain;

import org.junit.jupiter.api.Test;

import java.time.LocalDate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The promotion rule at its edges, and which landing files belong to which night. */
class PromotionAndWindowTest {
    @Test
    void promotesWithinToleranceAndRejectsBeyondIt() {
        assertTrue(Promotion.decide(0.80, null, 0.01, 0).promoted(), "first model");
        assertTrue(Promotion.decide(0.85, 0.80, 0.01, 0).promoted(), "better");
        assertTrue(Promotion.decide(0.79, 0.80, 0.01, 0).promoted(), "exactly the tolerance worse");
        Promotion.Decision worse = Promotion.decide(0.7899, 0.80, 0.01, 0);
        assertFalse(worse.promoted());
        assertEquals("holdout top-1 0.7899 is 0.0101 below current 0.8000 (tolerance 0.0100)", worse.reason());
        assertFalse(Promotion.decide(0.40, null, 0.01, 0.5).promoted(), "a first model under min-top1 is not promoted");
        assertFalse(Promotion.decide(0.45, 0.30, 0.01, 0.5).promoted(), "min-top1 holds even against a worse current model");
    }

    @Test
    void partitionDatesComeFromTheInnermostDateFolderIncludingArchiveEntries() {
        assertEquals(LocalDate.of(2026, 11, 2), TrainingWindow.dateOf("hdfs://nn/landing/date=2026-11-02/cat/x.jpg"));
        assertEquals(LocalDate.of(2026, 11, 3), TrainingWindow.dateOf("s3a://b/date=2026-11-01/date=2026-11-03/cat/x.jpg"));
        assertEquals(LocalDate.of(2026, 11, 4), TrainingWindow.dateOf("file:/l/date=2026-11-04!/cat/x.jpg"));
        assertEquals(LocalDate.of(2026, 11, 5), TrainingWindow.dateOf("file:/l/date=2026-11-05/batch.tar.gz!/cat/x.jpg"));
        assertNull(TrainingWindow.dateOf("file:/l/2026-11-05/cat/x.jpg"), "no date= folder");
        assertNull(TrainingWindow.dateOf("file:/l/date=2026-13-40/cat/x.jpg"), "not a calendar date");
        assertNull(TrainingWindow.dateOf("file:/l/cat/date=2026-11-05.jpg"), "a file name is not a partition");
    }

    @Test
    void windowIsTheLastNDaysUpToTheNightAndNeverTheFuture() {
        LocalDate night = LocalDate.of(2026, 11, 10);
        assertTrue(TrainingWindow.inWindow(night, night, 1));
        assertFalse(TrainingWindow.inWindow(night.minusDays(1), night, 1));
        assertTrue(TrainingWindow.inWindow(night.minusDays(6), night, 7));
        assertFalse(TrainingWindow.inWindow(night.minusDays(7), night, 7));
        assertTrue(TrainingWindow.inWindow(LocalDate.of(2020, 1, 1), night, 0), "0 = every partition");
        assertFalse(TrainingWindow.inWindow(night.plusDays(1), night, 0), "data dated after the night waits for its night");
    }
}
