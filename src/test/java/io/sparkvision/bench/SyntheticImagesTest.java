package io.sparkvision.bench;

import io.sparkvision.TestSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The synthetic ImageNet-like set: the asked count, class folders, ImageNet's size, photo-like files, reproducible. */
class SyntheticImagesTest {
    static final Path FIXTURES = TestSpark.basedir().resolve("src/test/resources/emoji-tiny");

    @Test
    void writesTheAskedImagesInClassFoldersAtImageNetSize(@TempDir Path out) throws Exception {
        SyntheticImages.Written w = SyntheticImages.run(FIXTURES, out, 40, 4, 3, 5, null);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(out)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        assertEquals(40, files.size());
        assertEquals(40, w.images());
        long bytes = 0;
        for (Path f : files) bytes += Files.size(f);
        assertEquals(bytes, w.bytes(), "reported bytes are the files' bytes");
        try (Stream<Path> classes = Files.list(out.resolve("train"))) {
            assertEquals(List.of("c0000", "c0001", "c0002", "c0003"), classes.map(p -> p.getFileName().toString()).sorted().toList());
        }
        for (int c = 0; c < 4; c++) {
            try (Stream<Path> inClass = Files.list(out.resolve("train/c000" + c))) {
                assertEquals(10, inClass.count());
            }
        }
        BufferedImage landscape = ImageIO.read(out.resolve("train/c0000/img0000000.jpg").toFile());
        BufferedImage portrait = ImageIO.read(out.resolve("train/c0003/img0000003.jpg").toFile());
        assertEquals(500, landscape.getWidth());
        assertEquals(375, landscape.getHeight());
        assertEquals(375, portrait.getWidth());
        assertEquals(500, portrait.getHeight());
        // Photo-like, not flat emoji: flat 500x375 JPEGs are a few KB; ImageNet's are ~110 KB.
        double mean = (double) bytes / files.size();
        assertTrue(mean > 20_000 && mean < 200_000, "mean JPEG " + mean + " bytes");
    }

    @Test
    void imageIDependsOnlyOnSeedAndIndex(@TempDir Path a, @TempDir Path b) throws Exception {
        SyntheticImages.run(FIXTURES, a, 12, 3, 1, 9, null);
        SyntheticImages.run(FIXTURES, b, 12, 3, 4, 9, null);
        for (int i = 0; i < 12; i++) {
            Path rel = a.relativize(SyntheticImages.file(a, i, 3));
            assertArrayEquals(Files.readAllBytes(a.resolve(rel)), Files.readAllBytes(b.resolve(rel)), rel.toString());
        }
        Path other = Files.createTempDirectory("synth-seed");
        SyntheticImages.run(FIXTURES, other, 1, 1, 1, 10, null);
        assertTrue(Files.size(other.resolve("train/c0000/img0000000.jpg")) != Files.size(a.resolve("train/c0000/img0000000.jpg"))
                || !java.util.Arrays.equals(Files.readAllBytes(other.resolve("train/c0000/img0000000.jpg")),
                Files.readAllBytes(a.resolve("train/c0000/img0000000.jpg"))), "another seed gives other images");
    }

    @Test
    void refusesMoreClassesThanImages(@TempDir Path out) {
        assertThrows(IllegalArgumentException.class, () -> SyntheticImages.run(FIXTURES, out, 2, 3, 1, 1, null));
    }
}
