package io.sparkvision.bench;

import io.sparkvision.TestSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `bench job`'s dataset: the fixture tree copied under new names, split and class folders kept (no Spark). */
class JobBenchmarkTest {
    @Test
    void replicatesEveryImageIntoItsSplitAndClass(@TempDir Path work) throws Exception {
        Path fixture = TestSpark.basedir().resolve("src/test/resources/emoji-tiny");
        int sources = JobBenchmark.replicate(fixture, work, 3);
        assertEquals(30, sources, "the fixture's 24 train + 6 val images");
        assertEquals(72, count(work.resolve("train")));
        assertEquals(18, count(work.resolve("val")));
        assertArrayEquals(Files.readAllBytes(fixture.resolve("train/animal/dog.png")), Files.readAllBytes(work.resolve("train/animal/dog-2.png")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JobBenchmark.replicate(work.resolve("none"), work, 1));
        assertTrue(e.getMessage().contains("--images"), e.getMessage());
    }

    private static long count(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).count();
        }
    }
}
