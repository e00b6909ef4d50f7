package io.sparkvision.ingest;

import io.sparkvision.image.Pixels;
import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32;

/** Images of every layout, and broken files, generated in the tests themselves. */
final class Hostile {
    private Hostile() {
    }

    static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, format, out)) throw new IOException("no " + format + " writer for type " + img.getType());
        return out.toByteArray();
    }

    /** A w x h image, left half red, right half blue (so orientation and channel order are checkable). */
    static BufferedImage halves(int w, int h, int type) {
        BufferedImage img = new BufferedImage(w, h, type);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, x < w / 2 ? 0xffff0000 : 0xff0000ff);
        return img;
    }

    /** A PNG whose IHDR claims w x h pixels, with a valid CRC and no image data worth the name. */
    static byte[] pngClaiming(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        byte[] ihdr = ByteBuffer.allocate(17).put(new byte[] {'I', 'H', 'D', 'R'}).putInt(w).putInt(h)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0).array();
        b.putInt(13).put(ihdr).putInt(crc(ihdr));
        byte[] iend = {'I', 'E', 'N', 'D'};
        b.putInt(0).put(iend).putInt(crc(iend));
        return b.array();
    }

    private static int crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return (int) c.getValue();
    }

    static byte[] truncated(byte[] b) {
        return Arrays.copyOf(b, b.length / 2);
    }

    /** A JPEG with an EXIF APP1 segment carrying the given orientation, inserted after SOI. */
    static byte[] withOrientation(byte[] jpeg, int orientation) {
        ByteBuffer tiff = ByteBuffer.allocate(8 + 2 + 12 + 4);
        tiff.put(new byte[] {'M', 'M', 0, 42}).putInt(8).putShort((short) 1)
                .putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0)
                .putInt(0);
        byte[] t = tiff.array();
        ByteBuffer app1 = ByteBuffer.allocate(4 + 6 + t.length);
        app1.put((byte) 0xff).put((byte) 0xe1).putShort((short) (2 + 6 + t.length)).put(new byte[] {'E', 'x', 'i', 'f', 0, 0}).put(t);
        byte[] a = app1.array();
        byte[] out = new byte[jpeg.length + a.length];
        System.arraycopy(jpeg, 0, out, 0, 2);
        System.arraycopy(a, 0, out, 2, a.length);
        System.arraycopy(jpeg, 2, out, 2 + a.length, jpeg.length - 2);
        return out;
    }
}
