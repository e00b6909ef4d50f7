package io.sparkvision.image;

import io.sparkvision.ingest.Jpegs;
import io.sparkvision.util.Json;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The image-preparation contract in memory: raw bytes prepared for scoring give exactly the tensor that training and
 * evaluation read back from the ingested PNG; the parameters survive model.json; decoder warnings are read the same.
 */
class ImagePreparerTest {
    static final ImagePreparation RGB16 = ImagePreparation.defaults(16, 3);
    static final double[] ZERO = {0}, ONE = {1};
    static final long LIMIT = 100_000_000L;

    /** An odd-sized RGBA image: an opaque red left half, a half-transparent blue right half, a transparent column. */
    static byte[] rgbaPng(int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int argb = x == w - 1 ? 0x00000000 : x < w / 2 ? 0xffff0000 : 0x800000ff;
                img.setRGB(x, y, argb ^ ((x * 7 + y * 13) & 0x1f)); // some texture for the resize to average
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    @Test
    void scoringRawBytesGivesTheTensorTrainingReadsFromTheIngestedPng() throws IOException {
        for (ImagePreparation prep : new ImagePreparation[] {RGB16, ImagePreparation.defaults(12, 1),
                new ImagePreparation(16, ImagePreparation.KEEP_ASPECT, 3, "#000000")}) {
            byte[] raw = rgbaPng(53, 37);
            double[] mean = {0.3, 0.4, 0.5}, std = {0.2, 0.25, 0.3};
            float[] scored = ImagePreparer.tensor(raw, prep, LIMIT, "limit", mean, std);
            byte[] ingested = ImagePreparer.pixels(raw, prep, LIMIT, "limit").png();
            float[] trained = ImagePreparer.prepared(ingested, "x.png", prep.shape(), mean, std);
            assertArrayEquals(trained, scored, prep.toString());
        }
    }

    @Test
    void alphaIsFlattenedOntoTheRecordedBackground() throws IOException {
        byte[] raw = rgbaPng(53, 37);
        Pixels white = ImagePreparer.pixels(raw, RGB16, LIMIT, "limit");
        Pixels black = ImagePreparer.pixels(raw, new ImagePreparation(16, ImagePreparation.SHORTER_SIDE_CROP, 3, 0), LIMIT, "limit");
        int right = (8 * 16 + 12) * 3; // half-transparent blue: between blue and the background
        assertTrue((white.data()[right] & 0xff) > 100 && (black.data()[right] & 0xff) < 40,
                "red of half-transparent blue: white bg " + (white.data()[right] & 0xff) + ", black bg " + (black.data()[right] & 0xff));
        assertFalse(Arrays.equals(white.data(), black.data()));
    }

    @Test
    void parametersSurviveModelJsonAndAbsentOnesAreTheDefaults() {
        ImagePreparation p = new ImagePreparation(16, ImagePreparation.KEEP_ASPECT, 1, 0x808080);
        assertEquals("#808080", p.background());
        @SuppressWarnings("unchecked")
        Map<String, Object> meta = Json.read(Json.pretty(Map.of("preparation", p)), Map.class);
        assertEquals(p, ImagePreparation.ofModel(meta, new InputShape(1, 16, 16), "model.json"));
        assertEquals(ImagePreparation.defaults(28, 1), ImagePreparation.ofModel(Map.of(), new InputShape(1, 28, 28), "model.json"));
        String m = assertThrows(IllegalArgumentException.class,
                () -> ImagePreparation.ofModel(meta, new InputShape(3, 16, 16), "m/model.json")).getMessage();
        assertTrue(m.startsWith("m/model.json: preparation") && m.contains("does not produce"), m);
        m = assertThrows(IllegalArgumentException.class,
                () -> ImagePreparation.ofModel(Map.of("preparation", Map.of("size", 16, "resize", "bilinear", "channels", 1,
                        "background", "#ffffff")), new InputShape(1, 16, 16), "m/model.json")).getMessage();
        assertTrue(m.contains("resize = bilinear"), m);
    }

    @Test
    void anIngestedImageOfTheWrongSizeIsNotSilentlyResized() throws IOException {
        byte[] png = ImagePreparer.pixels(rgbaPng(20, 20), ImagePreparation.defaults(20, 3), LIMIT, "limit").png();
        String m = assertThrows(IOException.class, () -> ImagePreparer.prepared(png, "d/a.png", new InputShape(3, 16, 16), ZERO, ONE)).getMessage();
        assertTrue(m.contains("d/a.png") && m.contains("re-run ingest"), m);
    }

    @Test
    void cmykWithoutProfileIsPreparedWithItsColours() throws IOException {
        float[] t = ImagePreparer.tensor(Jpegs.adobeCmyk(32, 32, false), RGB16, LIMIT, "limit", ZERO, ONE);
        int left = 8 * 16 + 2, right = 8 * 16 + 13, hw = 16 * 16;
        assertTrue(t[left] > 0.8 && t[2 * hw + left] < 0.25, "left is red ink: " + t[left] + "," + t[2 * hw + left]);
        assertTrue(t[2 * hw + right] > 0.8 && t[right] < 0.25, "right is blue ink: " + t[right] + "," + t[2 * hw + right]);
    }

    @Test
    void damagedOrUnsupportedJpegsAreRefusedWithTheReason() throws IOException {
        byte[] jpeg = Jpegs.rgb(64, 64, false);
        String m = assertThrows(IOException.class,
                () -> ImagePreparer.tensor(Arrays.copyOf(jpeg, jpeg.length - 3), RGB16, LIMIT, "limit", ZERO, ONE)).getMessage();
        assertTrue(m.contains("premature end of data segment"), m);
        m = assertThrows(IOException.class, () -> ImagePreparer.tensor(Jpegs.twelveBit(3000), RGB16, LIMIT, "limit", ZERO, ONE)).getMessage();
        assertTrue(m.startsWith("12-bit"), m);
        // Only the end marker missing: the pixels are all there.
        ImagePreparer.tensor(Arrays.copyOf(jpeg, jpeg.length - 2), RGB16, LIMIT, "limit", ZERO, ONE);
    }
}
