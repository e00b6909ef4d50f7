package io.sparkvision.ingest;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * JPEG variants real encoders write, made in the test: the JDK's writer stores a 4-band raster as raw 4-component
 * data (component ids 1..4, no colour transform, no Adobe marker); byte surgery then adds what Photoshop, libjpeg
 * and printers' RIPs add: an Adobe APP14 segment (transform 0 = CMYK, 2 = YCCK), component ids 'C','M','Y','K', an
 * ICC_PROFILE APP2 segment. CMYK samples are stored inverted, as Adobe writes them (and as every CMYK JPEG reader
 * expects). Every image is w x h, left half colour {@code left}, right half {@code right} (both given as CMYK ink).
 */
public final class Jpegs {
    static final int[] RED_INK = {0, 255, 255, 0};
    static final int[] BLUE_INK = {255, 255, 0, 0};

    private Jpegs() {
    }

    /** Adobe CMYK: Adobe APP14 with transform 0, inverted samples. */
    public static byte[] adobeCmyk(int w, int h, boolean progressive) throws IOException {
        return withSegment(raw4(w, h, inverted(RED_INK), inverted(BLUE_INK), progressive), adobe(0));
    }

    /** CMYK with no Adobe marker: only the component ids 'C','M','Y','K' say what the four components are. */
    public static byte[] plainCmyk(int w, int h) throws IOException {
        return withComponentIds(raw4(w, h, inverted(RED_INK), inverted(BLUE_INK), false), new int[] {'C', 'M', 'Y', 'K'});
    }

    /** Adobe YCCK: the inverted CMY samples turned to YCbCr as libjpeg's encoder does, K kept; APP14 transform 2. */
    public static byte[] adobeYcck(int w, int h) throws IOException {
        return withSegment(raw4(w, h, ycck(inverted(RED_INK)), ycck(inverted(BLUE_INK)), false), adobe(2));
    }

    /** {@code jpeg} with an ICC_PROFILE APP2 segment carrying {@code profile} (one chunk), right after SOI. */
    public static byte[] withIcc(byte[] jpeg, byte[] profile) {
        byte[] id = "ICC_PROFILE\0".getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(4 + id.length + 2 + profile.length);
        b.put((byte) 0xff).put((byte) 0xe2).putShort((short) (2 + id.length + 2 + profile.length)).put(id)
                .put((byte) 1).put((byte) 1).put(profile);
        return withSegment(jpeg, b.array());
    }

    static int[] inverted(int[] ink) {
        return new int[] {255 - ink[0], 255 - ink[1], 255 - ink[2], 255 - ink[3]};
    }

    /** libjpeg's cmyk_ycck_convert: R = 255 - C (of the stored samples), then JFIF YCbCr; K passes through. */
    static int[] ycck(int[] stored) {
        double r = 255 - stored[0], g = 255 - stored[1], b = 255 - stored[2];
        int y = clamp(0.299 * r + 0.587 * g + 0.114 * b);
        int cb = clamp(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
        int cr = clamp(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
        return new int[] {y, cb, cr, stored[3]};
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }

    /** Raw 4-component JPEG of the given samples, as the JDK writes a 4-band raster. */
    static byte[] raw4(int w, int h, int[] left, int[] right, boolean progressive) throws IOException {
        WritableRaster r = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) r.setPixel(x, y, x < w / 2 ? left : right);
        ImageWriter wr = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (var ios = ImageIO.createImageOutputStream(out)) {
            wr.setOutput(ios);
            ImageWriteParam p = wr.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(0.95f);
            if (progressive) p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            wr.write(null, new IIOImage(r, null, null), p);
        } finally {
            wr.dispose();
        }
        return out.toByteArray();
    }

    /** An RGB JPEG (left red, right blue) from the JDK writer, optionally progressive. */
    public static byte[] rgb(int w, int h, boolean progressive) throws IOException {
        BufferedImage img = Hostile.halves(w, h, BufferedImage.TYPE_3BYTE_BGR);
        ImageWriter wr = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (var ios = ImageIO.createImageOutputStream(out)) {
            wr.setOutput(ios);
            ImageWriteParam p = wr.getDefaultWriteParam();
            if (progressive) p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            wr.write(null, new IIOImage(img, null, null), p);
        } finally {
            wr.dispose();
        }
        return out.toByteArray();
    }

    /** Adobe APP14: "Adobe", version 100, flags0, flags1, transform. */
    static byte[] adobe(int transform) {
        return new byte[] {(byte) 0xff, (byte) 0xee, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, (byte) transform};
    }

    /** {@code segment} (marker and length included) inserted right after SOI. */
    static byte[] withSegment(byte[] jpeg, byte[] segment) {
        byte[] out = new byte[jpeg.length + segment.length];
        System.arraycopy(jpeg, 0, out, 0, 2);
        System.arraycopy(segment, 0, out, 2, segment.length);
        System.arraycopy(jpeg, 2, out, 2 + segment.length, jpeg.length - 2);
        return out;
    }

    /** Rewrites the component ids in the frame header and in every scan header (they must agree). */
    static byte[] withComponentIds(byte[] jpeg, int[] ids) {
        byte[] b = jpeg.clone();
        int i = 2;
        while (i + 4 <= b.length && (b[i] & 0xff) == 0xff) {
            int marker = b[i + 1] & 0xff, len = ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
            if (marker >= 0xc0 && marker <= 0xc2) { // SOFn: P, Y, X, Nf, then Nf x (id, HV, Tq)
                int nf = b[i + 9] & 0xff;
                for (int c = 0; c < nf; c++) b[i + 10 + 3 * c] = (byte) ids[(b[i + 10 + 3 * c] & 0xff) - 1];
            } else if (marker == 0xda) { // SOS: Ns, then Ns x (id, Td/Ta); entropy-coded data follows
                int ns = b[i + 4] & 0xff;
                for (int c = 0; c < ns; c++) b[i + 5 + 2 * c] = (byte) ids[(b[i + 5 + 2 * c] & 0xff) - 1];
                i = nextMarkerAfterScan(b, i + 2 + len);
                continue;
            }
            i += 2 + len;
        }
        return b;
    }

    private static int nextMarkerAfterScan(byte[] b, int i) {
        while (i + 1 < b.length) {
            if ((b[i] & 0xff) == 0xff) {
                int m = b[i + 1] & 0xff;
                if (m != 0 && (m < 0xd0 || m > 0xd7)) return i; // not stuffing, not a restart marker
            }
            i++;
        }
        return b.length;
    }

    /**
     * A minimal ICC v2 output profile, CMYK -> Lab, with a 2-point-per-channel lut8 A2B0: each corner of the ink
     * hypercube maps to the Lab colour of {@code corner(c, m, y, k)} (an sRGB triple in [0, 1]).
     */
    public static byte[] cmykProfile(CornerColour corner) {
        ColorSpace srgb = ColorSpace.getInstance(ColorSpace.CS_sRGB);
        byte[] clut = new byte[16 * 3];
        int n = 0;
        for (int c = 0; c < 2; c++) for (int m = 0; m < 2; m++) for (int y = 0; y < 2; y++) for (int k = 0; k < 2; k++) {
            float[] xyz = srgb.toCIEXYZ(corner.rgb(c, m, y, k)); // D50, as ICC's PCS
            double[] lab = lab(xyz);
            clut[n++] = (byte) Math.round(lab[0] * 255 / 100);
            clut[n++] = (byte) Math.round(Math.max(-128, Math.min(127, lab[1])) + 128);
            clut[n++] = (byte) Math.round(Math.max(-128, Math.min(127, lab[2])) + 128);
        }
        ByteBuffer lut = ByteBuffer.allocate(48 + 4 * 256 + clut.length + 3 * 256);
        lut.put("mft1".getBytes(StandardCharsets.US_ASCII)).putInt(0).put((byte) 4).put((byte) 3).put((byte) 2).put((byte) 0);
        for (int r = 0; r < 3; r++) for (int col = 0; col < 3; col++) lut.putInt(r == col ? 0x10000 : 0);
        for (int ch = 0; ch < 4; ch++) for (int v = 0; v < 256; v++) lut.put((byte) v);
        lut.put(clut);
        for (int ch = 0; ch < 3; ch++) for (int v = 0; v < 256; v++) lut.put((byte) v);
        byte[] a2b0 = lut.array();
        // Lab -> ink, never used to decode, but readers check that the profile converts both ways.
        ByteBuffer back = ByteBuffer.allocate(48 + 3 * 256 + 8 * 4 + 4 * 256);
        back.put("mft1".getBytes(StandardCharsets.US_ASCII)).putInt(0).put((byte) 3).put((byte) 4).put((byte) 2).put((byte) 0);
        for (int r = 0; r < 3; r++) for (int col = 0; col < 3; col++) back.putInt(r == col ? 0x10000 : 0);
        for (int ch = 0; ch < 3; ch++) for (int v = 0; v < 256; v++) back.put((byte) v);
        for (int e = 0; e < 8; e++) back.put(new byte[] {0, 0, 0, (byte) ((e & 4) == 0 ? 255 : 0)});
        for (int ch = 0; ch < 4; ch++) for (int v = 0; v < 256; v++) back.put((byte) v);
        byte[] b2a0 = back.array();
        byte[] wtpt = ByteBuffer.allocate(20).put("XYZ ".getBytes(StandardCharsets.US_ASCII)).putInt(0)
                .putInt(s15(0.9642)).putInt(s15(1.0)).putInt(s15(0.8249)).array();
        byte[] desc = desc("sparkvision test CMYK");
        byte[][] tags = {a2b0, b2a0, wtpt, desc};
        String[] sigs = {"A2B0", "B2A0", "wtpt", "desc"};
        int offset = 128 + 4 + 12 * tags.length;
        int size = offset;
        for (byte[] t : tags) size += (t.length + 3) & ~3;
        ByteBuffer p = ByteBuffer.allocate(size);
        p.putInt(size).putInt(0).putInt(0x02100000).put("prtr".getBytes(StandardCharsets.US_ASCII))
                .put("CMYK".getBytes(StandardCharsets.US_ASCII)).put("Lab ".getBytes(StandardCharsets.US_ASCII));
        p.putShort((short) 2026).putShort((short) 1).putShort((short) 1).putShort((short) 0).putShort((short) 0).putShort((short) 0);
        p.put("acsp".getBytes(StandardCharsets.US_ASCII)).putInt(0).putInt(0).putInt(0).putInt(0).putLong(0).putInt(0);
        p.putInt(s15(0.9642)).putInt(s15(1.0)).putInt(s15(0.8249)).putInt(0);
        p.position(128);
        p.putInt(tags.length);
        int at = offset;
        for (int t = 0; t < tags.length; t++) {
            p.put(sigs[t].getBytes(StandardCharsets.US_ASCII)).putInt(at).putInt(tags[t].length);
            at += (tags[t].length + 3) & ~3;
        }
        at = offset;
        for (byte[] t : tags) {
            p.position(at);
            p.put(t);
            at += (t.length + 3) & ~3;
        }
        return p.array();
    }

    public interface CornerColour {
        float[] rgb(int c, int m, int y, int k);
    }

    /** Ink to light: the textbook (1 - C)(1 - K) per channel. */
    public static final CornerColour NAIVE = (c, m, y, k) -> new float[] {(1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)};

    private static int s15(double v) {
        return (int) Math.round(v * 65536);
    }

    private static byte[] desc(String text) {
        byte[] ascii = (text + "\0").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(12 + ascii.length + 4 + 4 + 2 + 1 + 67);
        b.put("desc".getBytes(StandardCharsets.US_ASCII)).putInt(0).putInt(ascii.length).put(ascii);
        return b.array(); // Unicode and ScriptCode parts left empty (zero counts)
    }

    private static double[] lab(float[] xyz) {
        double fx = f(xyz[0] / 0.9642), fy = f(xyz[1] / 1.0), fz = f(xyz[2] / 0.8249);
        return new double[] {116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)};
    }

    private static double f(double t) {
        return t > 216.0 / 24389 ? Math.cbrt(t) : (24389.0 / 27 * t + 16) / 116;
    }

    /**
     * A valid 8x8 grey 12-bit JPEG (SOF1, extended sequential Huffman, precision 12) of one constant sample value:
     * a single block whose only non-zero coefficient is DC. Hand-assembled, because no encoder here writes 12-bit.
     */
    public static byte[] twelveBit(int sample) {
        int dc = 8 * (sample - 2048); // the FDCT's DC term of a constant 8x8 block after the 2^(P-1) level shift
        int category = 32 - Integer.numberOfLeadingZeros(Math.abs(dc));
        int bits = dc >= 0 ? dc : dc - 1; // JPEG's one's-complement form of a negative difference
        // Bits: DC code '0' (the table's one symbol), the category's low bits of the difference, EOB code '0'.
        long stream = 0;
        int n = 0;
        stream = (stream << 1);
        n += 1;
        stream = (stream << category) | (bits & ((1L << category) - 1));
        n += category;
        stream = stream << 1;
        n += 1;
        int pad = (8 - n % 8) % 8;
        stream = (stream << pad) | ((1L << pad) - 1);
        n += pad;
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (int i = n / 8 - 1; i >= 0; i--) {
            int by = (int) (stream >> (8 * i)) & 0xff;
            data.write(by);
            if (by == 0xff) data.write(0); // byte stuffing
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0xff);
        out.write(0xd8);
        out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xdb, 0, 67, 0});
        for (int i = 0; i < 64; i++) out.write(1); // quantisation table 0: all ones (8-bit entries)
        out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xc1, 0, 11, 12, 0, 8, 0, 8, 1, 1, 0x11, 0});
        out.writeBytes(huffman(0, category));
        out.writeBytes(huffman(0x10, 0)); // AC table 0: only EOB
        out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xda, 0, 8, 1, 1, 0, 0, 63, 0});
        out.writeBytes(data.toByteArray());
        out.write(0xff);
        out.write(0xd9);
        return out.toByteArray();
    }

    /** DHT with one symbol coded in one bit. */
    private static byte[] huffman(int classAndId, int symbol) {
        byte[] b = new byte[4 + 1 + 16 + 1];
        b[0] = (byte) 0xff;
        b[1] = (byte) 0xc4;
        b[3] = (byte) (b.length - 2);
        b[4] = (byte) classAndId;
        b[5] = 1;
        b[21] = (byte) symbol;
        return b;
    }
}
