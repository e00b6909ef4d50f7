package io.sparkvision.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The progress line's numbers stay readable from LeNet-5's thousands of examples/s down to AlexNet's tenths. */
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
}
