package io.sparkvision.train;

import io.sparkvision.config.Choices.EarlyStopMetric;
import io.sparkvision.config.JobConfig;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LearningRatesTest {
    static LearningRates lr(String hocon, int workers) {
        return new LearningRates(JobConfig.fromString(hocon), workers);
    }

    @Test
    void stepDecaysEveryNEpochs() {
        LearningRates r = lr("train { epochs = 10, learning-rate = 0.1, lr-schedule = step, lr-step-epochs = 3, lr-step-gamma = 0.5 }", 1);
        assertEquals(0.1, r.at(1), 1e-12);
        assertEquals(0.1, r.at(3), 1e-12);
        assertEquals(0.05, r.at(4), 1e-12);
        assertEquals(0.025, r.at(7), 1e-12);
    }

    @Test
    void cosineRunsFromInitialToTheFloor() {
        LearningRates r = lr("train { epochs = 5, learning-rate = 0.2, lr-schedule = cosine, lr-min-fraction = 0.1 }", 1);
        assertEquals(0.2, r.at(1), 1e-12);
        assertEquals(0.11, r.at(3), 1e-12); // half way: (0.2 + 0.02) / 2
        assertEquals(0.02, r.at(5), 1e-12);
    }

    @Test
    void polynomialDecaysWithItsPower() {
        LearningRates r = lr("train { epochs = 5, learning-rate = 1, lr-schedule = polynomial, lr-power = 2, lr-min-fraction = 0.01 }", 1);
        assertEquals(1.0, r.at(1), 1e-12);
        assertEquals(0.25, r.at(3), 1e-12);
        assertEquals(0.01, r.at(5), 1e-12);
    }

    @Test
    void warmUpRampsLinearlyThenTheScheduleStarts() {
        LearningRates r = lr("train { epochs = 6, learning-rate = 0.3, lr-schedule = constant, warmup-epochs = 2 }", 1);
        assertEquals(0.1, r.at(1), 1e-12);
        assertEquals(0.2, r.at(2), 1e-12);
        assertEquals(0.3, r.at(3), 1e-12);
        assertEquals(0.3, r.at(6), 1e-12);
    }

    @Test
    void linearScalingRuleFollowsTheTotalBatch() {
        String job = "train { learning-rate = 0.1, lr-schedule = constant, batch-size-per-worker = 64, lr-reference-batch = 256 }";
        assertEquals(0.05, lr(job, 2).at(1), 1e-12);  // 2 x 64 = 128 = half the reference batch
        assertEquals(0.2, lr(job, 8).at(1), 1e-12);   // 8 x 64 = 512
    }

    @Test
    void earlyStoppingWaitsForPatience() {
        EarlyStopping s = new EarlyStopping(EarlyStopMetric.TOP1_ACCURACY, 2);
        assertFalse(s.shouldStop(evaluated(1, 1.0, 0.5)));
        assertFalse(s.shouldStop(evaluated(2, 1.0, 0.6)));
        assertFalse(s.shouldStop(fitted(3)), "an epoch without evaluation does not count");
        assertFalse(s.shouldStop(evaluated(4, 1.0, 0.55)));
        assertTrue(s.shouldStop(evaluated(5, 1.0, 0.6)), "equal is not an improvement");
        EarlyStopping loss = new EarlyStopping(EarlyStopMetric.TEST_LOSS, 1);
        assertFalse(loss.shouldStop(evaluated(1, 1.0, 0.5)));
        assertFalse(loss.shouldStop(evaluated(2, 0.9, 0.5)));
        assertTrue(loss.shouldStop(evaluated(3, 0.95, 0.5)));
        assertFalse(new EarlyStopping(EarlyStopMetric.NONE, 1).shouldStop(evaluated(1, 1.0, 0.5)));
    }

    private static MetricsLine fitted(int epoch) {
        return MetricsLine.fitted(epoch, 10L, 0.01, 0.7, 640, null, 2.0).evaluated(null, null, null, "2026-12-01T00:00:00Z");
    }

    private static MetricsLine evaluated(int epoch, double testLoss, double top1) {
        return MetricsLine.fitted(epoch, 10L, 0.01, 0.7, 640, null, 2.0).evaluated(testLoss, top1, 0.9, "2026-12-01T00:00:00Z");
    }
}
