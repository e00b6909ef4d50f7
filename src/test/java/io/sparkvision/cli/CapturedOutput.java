package io.sparkvision.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

/** Base for command-line tests: captures System.out and System.err around each test. */
abstract class CapturedOutput {
    protected final ByteArrayOutputStream err = new ByteArrayOutputStream();
    protected final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private PrintStream oldErr, oldOut;

    @BeforeEach
    void capture() {
        oldErr = System.err;
        oldOut = System.out;
        System.setErr(new PrintStream(err, true));
        System.setOut(new PrintStream(out, true));
    }

    @AfterEach
    void restore() {
        System.setErr(oldErr);
        System.setOut(oldOut);
    }
}
