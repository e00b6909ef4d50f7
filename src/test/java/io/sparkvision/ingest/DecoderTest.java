package io.sparkvision.ingest;

import io.sparkvision.image.Orientation;
import io.sparkvision.image.Pixels;
import io.sparkvision.image.Resizer;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every image layout the ingest accepts, and the broken ones it must skip with a reason, without Spark. */
class DecoderTest {
    static final IngestSettings RGB16 = IngestSettings.defaults(16, 3);

    static int[] rgb(Pixels p, int x, int y) {
        int i = (y * p.width() + x) * p.channels();
        return new int[] {p.data()[i] & 0xff, p.data()[i + 1] & 0xff, p.data()[i + 2] & 0xff};
    }

    static void assertRedLeftBlueRight(Pixels p) {
        assertEquals(16, p.width());
        assertEquals(16, p.height());
        int[] l = rgb(p, 2, 8), r = rgb(p, 13, 8);
        assertTrue(l[0] > 200 && l[2] < 60, "left should be red: " + java.util.Arrays.toString(l));
        assertTrue(r[2] > 200 && r[0] < 60, "right should be blue: " + java.util.Arrays.toString(r));
    }

    @Test
    void rgbFormatsDecodeWithChannelsInRgbOrder() throws Exception {
        for (String fmt : new String[] {"png", "jpeg", "bmp", "gif"}) {
            BufferedImage img = Hostile.halves(64, 48, BufferedImage.TYPE_3BYTE_BGR);
            assertRedLeftBlueRight(Decoder.decode(Hostile.encode(img, fmt), RGB16));
        }
        assertRedLeftBlueRight(Decoder.decode(Hostile.encode(Hostile.halves(40, 40, BufferedImage.TYPE_INT_ARGB), "png"), RGB16));
    }

    @Test
    void alphaIsFlattenedOntoTheBackground() throws Exception {
        BufferedImage img = new BufferedImage(20, 20, BufferedImage.TYPE_INT_ARGB); // fully transparent
        Pixels white = Decoder.decode(Hostile.encode(img, "png"), RGB16);
        assertEquals(255, rgb(white, 5, 5)[1]);
        Pixels black = Decoder.decode(Hostile.encode(img, "png"), new IngestSettings(16, IngestSettings.SHORTER_SIDE_CROP,
                3, 0x000000, 1_000_000, 1 << 20, java.util.List.of("train"), "train"));
        assertEquals(0, rgb(black, 5, 5)[1]);
    }

    @Test
    void greyPaletteAndSixteenBitPngs() throws Exception {
        BufferedImage grey = new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSample(0, 0, 0, 0); // otherwise 0
        for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) grey.getRaster().setSample(x, y, 0, 100);
        Pixels g3 = Decoder.decode(Hostile.encode(grey, "png"), RGB16);
        assertEquals(3, g3.channels());
        assertEquals(100, rgb(g3, 3, 3)[0]);
        assertEquals(100, rgb(g3, 3, 3)[2]);
        Pixels g1 = Decoder.decode(Hostile.encode(grey, "png"), IngestSettings.defaults(16, 1));
        assertEquals(1, g1.channels());
        assertEquals(100, g1.data()[0] & 0xff);

        BufferedImage g16 = new BufferedImage(32, 32, BufferedImage.TYPE_USHORT_GRAY);
        for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) g16.getRaster().setSample(x, y, 0, 40000);
        assertEquals(Math.round(40000 * 255.0 / 65535), rgb(Decoder.decode(Hostile.encode(g16, "png"), RGB16), 4, 4)[0]);

        IndexColorModel pal = new IndexColorModel(2, 2, new byte[] {(byte) 255, 0}, new byte[] {0, 0}, new byte[] {0, (byte) 255});
        BufferedImage indexed = new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_BINARY, pal);
        WritableRaster r = indexed.getRaster();
        for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) r.setSample(x, y, 0, x < 16 ? 0 : 1);
        assertRedLeftBlueRight(Decoder.decode(Hostile.encode(indexed, "png"), RGB16));
    }

    @Test
    void greyWithAlphaPng() throws Exception {
        // 2-band grey+alpha, as PNG colour type 4 is decoded.
        java.awt.color.ColorSpace cs = java.awt.color.ColorSpace.getInstance(java.awt.color.ColorSpace.CS_GRAY);
        java.awt.image.ComponentColorModel cm = new java.awt.image.ComponentColorModel(cs, true, false,
                java.awt.Transparency.TRANSLUCENT, java.awt.image.DataBuffer.TYPE_BYTE);
        WritableRaster r = cm.createCompatibleWritableRaster(32, 32);
        for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) r.setPixel(x, y, new int[] {0, x < 16 ? 255 : 0});
        BufferedImage img = new BufferedImage(cm, r, false, null);
        Pixels p = Decoder.decode(Hostile.encode(img, "png"), RGB16);
        assertEquals(0, rgb(p, 2, 8)[0]);     // opaque black
        assertEquals(255, rgb(p, 13, 8)[0]);  // transparent -> white background
    }

    @Test
    void exifOrientationIsApplied() throws Exception {
        byte[] jpeg = Hostile.encode(Hostile.halves(64, 32, BufferedImage.TYPE_3BYTE_BGR), "jpeg");
        // Orientation 6: displayed rotated 90 degrees clockwise, so the red left half ends up on top.
        Pixels p = Decoder.decode(Hostile.withOrientation(jpeg, 6), new IngestSettings(16, IngestSettings.KEEP_ASPECT,
                3, 0x00ff00, 1_000_000, 1 << 20, java.util.List.of("train"), "train"));
        assertEquals(6, Orientation.ofJpeg(Hostile.withOrientation(jpeg, 6)));
        int[] top = rgb(p, 8, 3), bottom = rgb(p, 8, 12), side = rgb(p, 1, 8);
        assertTrue(top[0] > 200 && top[2] < 60, "top should be red: " + java.util.Arrays.toString(top));
        assertTrue(bottom[2] > 200 && bottom[0] < 60, "bottom should be blue: " + java.util.Arrays.toString(bottom));
        assertTrue(side[1] > 200, "keep-aspect pads the narrow side with the background: " + java.util.Arrays.toString(side));
    }

    @Test
    void brokenInputsAreSkippedWithAReason() throws IOException {
        byte[] png = Hostile.encode(Hostile.halves(64, 64, BufferedImage.TYPE_3BYTE_BGR), "png");
        byte[] jpeg = Hostile.encode(Hostile.halves(64, 64, BufferedImage.TYPE_3BYTE_BGR), "jpeg");
        assertSkipped(new byte[0], "zero-byte");
        assertSkipped("hello, not an image\n".getBytes(), "not an image");
        assertSkipped(Hostile.truncated(png), "truncated");
        assertSkipped(Hostile.truncated(jpeg), "truncated");
        byte[] corrupt = png.clone();
        for (int i = 40; i < corrupt.length - 20; i++) corrupt[i] = (byte) (i * 31);
        assertSkipped(corrupt, "corrupt");
        long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        assertSkipped(Hostile.pngClaiming(50_000, 50_000), "50000x50000");
        long after = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        assertTrue(after - before < 500L << 20, "must not allocate the claimed 7.5 GB");
    }

    static void assertSkipped(byte[] bytes, String expected) {
        String m = assertThrows(SkippedImage.class, () -> Decoder.decode(bytes, RGB16)).getMessage();
        assertTrue(m.contains(expected), m);
    }

    @Test
    void areaResizeAveragesEverySourcePixel() {
        byte[] stripes = new byte[64 * 64];
        for (int i = 0; i < stripes.length; i++) stripes[i] = (byte) ((i % 2) * 255); // 1-pixel vertical stripes
        Pixels p = Resizer.shorterSideCrop(new Pixels(64, 64, 1, stripes), 8);
        for (byte b : p.data()) assertEquals(128, b & 0xff, 1); // a point sampler would give 0 or 255
    }
}
