package io.sparkvision.cli;

import io.sparkvision.model.Architectures;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code models}, {@code models summary}, {@code models bench} on the command line. */
class ModelsCommandTest extends CapturedOutput {
    @Test
    void listHasEveryModelWithItsCount() {
        assertEquals(0, Main.execute("models", "--classes", "1000"));
        String s = out.toString();
        for (String name : Architectures.names()) assertTrue(s.contains("\n" + name + " "), name + " missing:\n" + s);
        assertTrue(s.contains("60,192,808"), s); // resnet152, counted without building it
        assertTrue(s.contains("143,667,240"), s); // vgg19
    }

    @Test
    void summaryPrintsShapesAndTotals() {
        assertEquals(0, Main.execute("models", "summary", "resnet50", "--input", "3x224x224", "--classes", "1000"));
        String s = out.toString();
        assertTrue(s.contains("64x112x112") && s.contains("2048x7x7"), s);
        assertTrue(s.contains("25,557,032"), s);
    }

    @Test
    void tooSmallInputIsAClearError() {
        assertEquals(2, Main.execute("models", "summary", "alexnet", "--input", "3x32x32"));
        assertTrue(err.toString().contains("model alexnet needs an input of at least 63x63"), err.toString());
    }

    @Test
    void benchTimesAForwardPass() {
        assertEquals(0, Main.execute("models", "bench", "lenet5", "--input", "1x28x28", "--classes", "10", "--runs", "1"));
        String s = out.toString();
        assertTrue(s.contains("61,706"), s);
        assertTrue(s.matches("(?s).*lenet5\\s+1x28x28\\s+61,706\\s+\\d+\\s+\\d+\\.\\d.*"), s);
    }
}
