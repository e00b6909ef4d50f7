package io.sparkvision.ingest;

import io.sparkvision.TestSpark;
import io.sparkvision.image.Pixels;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.sparkvision.ingest.DecoderTest.RGB16;
import static io.sparkvision.ingest.DecoderTest.assertRedLeftBlueRight;
import static io.sparkvision.ingest.DecoderTest.rgb;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JPEG variants encoders write in the wild: each decodes to the colours it holds, or is skipped with the true
 * reason. The images are left half red, right half blue (as CMYK ink where they are CMYK/YCCK), so a wrong colour
 * conversion, an ignored Adobe marker or an ignored ICC profile shows as a wrong colour, not only as an error.
 */
class JpegVariantsTest {
    static final String INACCURATE_CMYK = "will convert using inaccurate CMYK to RGB conversion";

    /** The warnings ImageIO's reader gives for these bytes (what the decoder used to treat as errors). */
    static List<String> readerWarnings(byte[] jpeg) throws IOException {
        try (ImageInputStream iis = new MemoryCacheImageInputStream(new ByteArrayInputStream(jpeg))) {
            ImageReader r = ImageIO.getImageReaders(iis).next();
            List<String> w = new ArrayList<>();
            try {
                r.setInput(iis);
                r.addIIOReadWarningListener((src, msg) -> w.add(msg));
                r.read(0);
            } finally {
                r.dispose();
            }
            return w;
        }
    }

    @Test
    void cmykAndYcckWithoutIccProfileDecodeDespiteTheWarning() throws Exception {
        byte[][] variants = {Jpegs.adobeCmyk(32, 32, false), Jpegs.adobeCmyk(32, 32, true), Jpegs.plainCmyk(32, 32),
                Jpegs.adobeYcck(32, 32)};
        String[] names = {"Adobe CMYK", "progressive Adobe CMYK", "CMYK with C,M,Y,K ids and no Adobe marker", "Adobe YCCK"};
        for (int i = 0; i < variants.length; i++) {
            // The premise: the reader does warn about these good images.
            assertTrue(readerWarnings(variants[i]).stream().anyMatch(w -> w.contains(INACCURATE_CMYK)),
                    names[i] + ": " + readerWarnings(variants[i]));
            Pixels p = Decoder.decode(variants[i], RGB16);
            assertRedLeftBlueRight(p);
        }
    }

    @Test
    void anEmbeddedIccProfileIsUsedForCmykAndYcck() throws Exception {
        // A faithful profile: the colours are the ink's.
        byte[] faithful = Jpegs.cmykProfile(Jpegs.NAIVE);
        assertRedLeftBlueRight(Decoder.decode(Jpegs.withIcc(Jpegs.adobeCmyk(32, 32, false), faithful), RGB16));
        assertRedLeftBlueRight(Decoder.decode(Jpegs.withIcc(Jpegs.adobeYcck(32, 32), faithful), RGB16));
        // A profile that swaps red and blue: the decoded colours follow the profile, so it was not ignored.
        byte[] swapped = Jpegs.cmykProfile((c, m, y, k) -> {
            float[] v = Jpegs.NAIVE.rgb(c, m, y, k);
            return new float[] {v[2], v[1], v[0]};
        });
        for (byte[] jpeg : new byte[][] {Jpegs.withIcc(Jpegs.adobeCmyk(32, 32, false), swapped),
                Jpegs.withIcc(Jpegs.adobeYcck(32, 32), swapped)}) {
            Pixels p = Decoder.decode(jpeg, RGB16);
            int[] l = rgb(p, 2, 8), r = rgb(p, 13, 8);
            assertTrue(l[2] > 200 && l[0] < 60, "red ink through the swapping profile is blue: " + Arrays.toString(l));
            assertTrue(r[0] > 200 && r[2] < 60, "blue ink through the swapping profile is red: " + Arrays.toString(r));
        }
    }

    @Test
    void progressiveAndArithmeticCodedJpegsDecode() throws Exception {
        assertRedLeftBlueRight(Decoder.decode(Jpegs.rgb(32, 32, true), RGB16));
        // Made with libjpeg-turbo 2.1.5 from Jpegs.rgb(32, 32, false): jpegtran -arithmetic [-progressive]
        // (see src/test/resources/jpeg/README.md); SOF9 and SOF10 frames.
        for (String f : new String[] {"arithmetic-red-blue-32.jpg", "arithmetic-progressive-red-blue-32.jpg"}) {
            byte[] b = Files.readAllBytes(TestSpark.basedir().resolve("src/test/resources/jpeg/" + f));
            assertRedLeftBlueRight(Decoder.decode(b, RGB16));
        }
    }

    @Test
    void twelveBitJpegIsSkippedSayingSo() {
        byte[] twelve = Jpegs.twelveBit(3000);
        String m = assertThrows(SkippedImage.class, () -> Decoder.decode(twelve, RGB16)).getMessage();
        assertTrue(m.startsWith("12-bit extended sequential JPEG (SOF1") && m.contains("8-bit samples only"), m);
    }

    @Test
    void onlyWarningsOfMissingDataDropAnImage() throws Exception {
        byte[] jpeg = Jpegs.rgb(64, 64, false);
        // Without its end marker the image data is complete: the JDK warns "Missing EOI marker", the image stays.
        byte[] noEnd = Arrays.copyOf(jpeg, jpeg.length - 2);
        assertTrue(readerWarnings(noEnd).toString().contains("Missing EOI"), readerWarnings(noEnd).toString());
        assertRedLeftBlueRight(Decoder.decode(noEnd, RGB16));
        // One byte of entropy-coded data less: libjpeg fills the rest with grey and says so; skipped.
        byte[] cmyk = Jpegs.adobeCmyk(64, 64, false);
        for (byte[] cut : new byte[][] {Arrays.copyOf(jpeg, jpeg.length - 3), Arrays.copyOf(cmyk, cmyk.length - 3)}) {
            String m = assertThrows(SkippedImage.class, () -> Decoder.decode(cut, RGB16)).getMessage();
            assertTrue(m.startsWith("corrupt or truncated JPEG"), m);
        }
        String m = assertThrows(SkippedImage.class, () -> Decoder.decode(Arrays.copyOf(jpeg, jpeg.length - 3), RGB16)).getMessage();
        assertTrue(m.contains("premature end of data segment"), m);
        assertEquals(3, Decoder.decode(cmyk, RGB16).channels());
    }
}
