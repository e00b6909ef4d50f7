package io.sparkvision.bench;

import io.sparkvision.image.InputShape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The product's own PyTorch twin script, run for real when a python3 with torch is on the machine; and the
 * "not measured" results the bench prints where it cannot run (no torch, no twin).
 */
class TorchReferenceTest {

    @Test
    void lenetTwinTrainsAndHasTheProductsParameterCount() {
        assumeTrue(TorchReference.pythonWithTorch() != null, "no python3 with torch on this machine: the bench prints 'not measured'");
        TorchReference.Result r = TorchReference.measure("lenet5", new InputShape(1, 28, 28), 8, 10, 1, 0.5, "sgd");
        assertTrue(r.measured(), r.note());
        assertTrue(r.examplesPerSecond() > 0);
        assertEquals(61_706, r.params()); // the product's LeNet-5 on 28x28, 10 classes (ModelStats counts the same)
        assertEquals(1, r.threads());
    }

    @Test
    void withoutAPythonWithTorchTheResultSaysNotMeasuredAndHowToGetOne() {
        // Runs on every machine (the tests above need torch): the result the bench prints as "not measured".
        TorchReference.Result r = TorchReference.measure(null, "lenet5", new InputShape(1, 28, 28), 8, 10, 1, 0.5, "sgd");
        assertFalse(r.measured(), r.toString());
        assertTrue(Double.isNaN(r.examplesPerSecond()) && r.params() == 0 && r.python() == null, r.toString());
        assertEquals("not measured: no python3 with torch (set SPARKVISION_PYTHON or install python3-torch python3-torchvision)", r.note());
    }

    @Test
    void modelWithoutTwinIsReportedNotMeasured() {
        assumeTrue(TorchReference.pythonWithTorch() != null, "no python3 with torch on this machine");
        TorchReference.Result r = TorchReference.measure("nin", new InputShape(3, 32, 32), 2, 10, 1, 0.1, "adam");
        assertFalse(r.measured());
        assertTrue(r.note().contains("no PyTorch twin of nin"), r.note());
    }
}
