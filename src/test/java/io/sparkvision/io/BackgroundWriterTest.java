package io.sparkvision.io;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BackgroundWriterTest {
    @Test
    void writesRunInSubmissionOrderAndAreAllDoneAfterClose() throws IOException {
        List<Integer> done = Collections.synchronizedList(new ArrayList<>());
        try (BackgroundWriter w = new BackgroundWriter()) {
            for (int i = 0; i < 20; i++) {
                int n = i;
                w.submit(() -> done.add(n));
            }
        }
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < 20; i++) expected.add(i);
        assertEquals(expected, done);
    }

    @Test
    void aFailedWriteIsRethrownOnTheCallersThread() throws IOException {
        BackgroundWriter w = new BackgroundWriter();
        w.submit(() -> {
            throw new IOException("disk full at epoch-0003.zip");
        });
        IOException e = assertThrows(IOException.class, w::awaitIdle);
        assertEquals("disk full at epoch-0003.zip", e.getMessage());
        w.close();
    }
}
