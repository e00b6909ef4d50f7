package io.sparkvision.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The progress line's numbers stay readable from LeNet-5's thousands of examples/s down to AlexNet's tenths, and
 * the line says what the epoch is doing once the batches are fitted.
 */
class ProgressMeterTest {

    @Test
    void slowRatesKeepTheirDigits() {
        assertEquals("1,506", ProgressMeter.rate(1505.6));
        assertEquals("42.3", ProgressMeter.rate(42.31));
        assertEquals("0.14", ProgressMeter.rate(0.137));
        assertEquals("0.00", ProgressMeter.rate(0));
    }

    @Test
    void etaIsHoursAndMinutesOrMinutesAndSeconds() {
        assertEquals("1m40s", ProgressMeter.eta(100, 1.0));
        assertEquals("2h46m", ProgressMeter.eta(10_000, 1.0));
        assertEquals("?", ProgressMeter.eta(10, 0));
    }

    @Test
    void whileFittingTheLineShowsBatchRateAndEta() {
        String l = ProgressMeter.line(3, 5, new TrainingCounters.Snapshot(640, 10, 5.0), 20, 1280, 2.0, 320, Double.NaN, null, 0);
        assertEquals("  epoch 3/5  batch 10/20  320 examples/s  train loss 0.5000  ETA epoch 0m02s, run 0m10s", l);
    }

    @Test
    void onceEveryBatchIsCountedItSaysTheLastRoundIsFinishingNotAFallingRate() {
        // All 20 batches counted 4 s into the epoch; 30 s later the round is still being averaged: the rate stays
        // the fit's (1,280 / 4 s), and no "ETA 0m00s" is repeated.
        String l = ProgressMeter.line(3, 5, new TrainingCounters.Snapshot(1280, 20, 10.0), 20, 1280, 34.0, 320, 4.0, null, 0);
        assertEquals("  epoch 3/5  all 20 batches fitted (320 examples/s)  train loss 0.5000  finishing the last round: "
                + "averaging and bringing the model back (30 s)", l);
    }

    @Test
    void afterTheFitItNamesWhatTheJobIsDoing() {
        String l = ProgressMeter.line(3, 5, new TrainingCounters.Snapshot(1280, 20, 10.0), 20, 1280, 50.0, 320, 4.0,
                "evaluating the model on the test split", 12.4);
        assertEquals("  epoch 3/5  evaluating the model on the test split (12 s)", l);
    }
}
