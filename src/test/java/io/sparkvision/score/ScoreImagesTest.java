package io.sparkvision.score;

import io.sparkvision.ingest.Jpegs;
import io.sparkvision.model.InputShape;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The score job decodes what the ingest decodes: CMYK without a profile scores, a truncated JPEG is an error row. */
class ScoreImagesTest {
    static final InputShape RGB16 = new InputShape(3, 16, 16);
    static final double[] ZERO = {0}, ONE = {1};

    @Test
    void cmykWithoutProfileIsScoredWithItsColours() throws IOException {
        float[] t = ScoreImages.prepare(Jpegs.adobeCmyk(32, 32, false), RGB16, ZERO, ONE);
        int left = 8 * 16 + 2, right = 8 * 16 + 13, hw = 16 * 16;
        assertTrue(t[left] > 0.8 && t[2 * hw + left] < 0.25, "left is red ink: " + t[left] + "," + t[2 * hw + left]);
        assertTrue(t[2 * hw + right] > 0.8 && t[right] < 0.25, "right is blue ink: " + t[right] + "," + t[2 * hw + right]);
    }

    @Test
    void damagedOrUnsupportedJpegsAreErrorsWithTheReason() throws IOException {
        byte[] jpeg = Jpegs.rgb(64, 64, false);
        String m = assertThrows(IOException.class,
                () -> ScoreImages.prepare(Arrays.copyOf(jpeg, jpeg.length - 3), RGB16, ZERO, ONE)).getMessage();
        assertTrue(m.contains("premature end of data segment"), m);
        m = assertThrows(IOException.class, () -> ScoreImages.prepare(Jpegs.twelveBit(3000), RGB16, ZERO, ONE)).getMessage();
        assertTrue(m.startsWith("12-bit"), m);
        // Only the end marker missing: the pixels are all there.
        ScoreImages.prepare(Arrays.copyOf(jpeg, jpeg.length - 2), RGB16, ZERO, ONE);
    }
}
