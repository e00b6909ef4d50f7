package io.sparkvision.image;

/**
 * EXIF orientation of JPEGs from phones and cameras. Readers return the stored pixels; without this a portrait
 * photo trains as a landscape one. Only the IFD0 Orientation tag (0x0112) of the APP1 Exif segment is read.
 */
public final class Orientation {
    private Orientation() {
    }

    /** The EXIF orientation 1..8 of a JPEG, 1 (as stored) when absent or unreadable. */
    public static int ofJpeg(byte[] b) {
        try {
            if (b.length < 4 || (b[0] & 0xff) != 0xff || (b[1] & 0xff) != 0xd8) return 1;
            int i = 2;
            while (i + 4 <= b.length && (b[i] & 0xff) == 0xff) {
                int marker = b[i + 1] & 0xff;
                if (marker == 0xda || marker == 0xd9) break; // image data starts: no more metadata
                int len = ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
                if (marker == 0xe1 && len >= 16 && b[i + 4] == 'E' && b[i + 5] == 'x' && b[i + 6] == 'i' && b[i + 7] == 'f') {
                    int tiff = i + 10;
                    boolean le = b[tiff] == 'I';
                    int ifd = tiff + u32(b, tiff + 4, le);
                    int n = u16(b, ifd, le);
                    for (int e = 0; e < n; e++) {
                        int entry = ifd + 2 + 12 * e;
                        if (u16(b, entry, le) == 0x0112) {
                            int v = u16(b, entry + 8, le);
                            return v >= 1 && v <= 8 ? v : 1;
                        }
                    }
                    return 1;
                }
                i += 2 + len;
            }
        } catch (ArrayIndexOutOfBoundsException e) {
            // a malformed Exif block: treat as no orientation, the decoder judges the image itself
        }
        return 1;
    }

    private static int u16(byte[] b, int i, boolean le) {
        return le ? (b[i] & 0xff) | ((b[i + 1] & 0xff) << 8) : ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
    }

    private static int u32(byte[] b, int i, boolean le) {
        return le ? u16(b, i, true) | (u16(b, i + 2, true) << 16) : (u16(b, i, false) << 16) | u16(b, i + 2, false);
    }

    /** The pixels as they should be displayed for EXIF orientation {@code o}. */
    public static Pixels apply(Pixels p, int o) {
        if (o <= 1 || o > 8) return p;
        int w = p.width(), h = p.height(), c = p.channels();
        boolean swap = o >= 5;
        int ow = swap ? h : w, oh = swap ? w : h;
        byte[] src = p.data(), out = new byte[src.length];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int sx, sy;
                switch (o) {
                    case 2: sx = w - 1 - x; sy = y; break;
                    case 3: sx = w - 1 - x; sy = h - 1 - y; break;
                    case 4: sx = x; sy = h - 1 - y; break;
                    case 5: sx = y; sy = x; break;
                    case 6: sx = y; sy = h - 1 - x; break;
                    case 7: sx = w - 1 - y; sy = h - 1 - x; break;
                    default: sx = w - 1 - y; sy = x; break; // 8
                }
                System.arraycopy(src, (sy * w + sx) * c, out, (y * ow + x) * c, c);
            }
        }
        return new Pixels(ow, oh, c, out);
    }
}
