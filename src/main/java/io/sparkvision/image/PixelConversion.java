package io.sparkvision.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

/**
 * Two steps of the image-preparation contract ({@link ImagePreparer}) on pixels: any decoded image to 8-bit grey or
 * RGB with alpha flattened onto a background, and grey/colour conversion to the channels a model takes.
 */
final class PixelConversion {
    private PixelConversion() {
    }

    static byte[] background(int rgb, int channels) {
        int r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
        if (channels == 1) return new byte[] {(byte) Math.round(0.299 * r + 0.587 * g + 0.114 * b)};
        return new byte[] {(byte) r, (byte) g, (byte) b};
    }

    private static int over(int v, int a, int bg) {
        return (v * a + bg * (255 - a) + 127) / 255;
    }

    /** Any decoded image to interleaved 8-bit grey or RGB, alpha flattened onto the background. */
    static Pixels toPixels(BufferedImage img, int background) {
        int w = img.getWidth(), h = img.getHeight();
        int bgR = (background >> 16) & 0xff, bgG = (background >> 8) & 0xff, bgB = background & 0xff;
        int bgY = background(background, 1)[0] & 0xff;
        Raster r = img.getRaster();
        int type = img.getType();
        if ((type == BufferedImage.TYPE_3BYTE_BGR || type == BufferedImage.TYPE_4BYTE_ABGR || type == BufferedImage.TYPE_BYTE_GRAY)
                && r.getParent() == null && r.getDataBuffer() instanceof DataBufferByte) {
            byte[] src = ((DataBufferByte) r.getDataBuffer()).getData();
            int sc = type == BufferedImage.TYPE_BYTE_GRAY ? 1 : type == BufferedImage.TYPE_3BYTE_BGR ? 3 : 4;
            if (src.length == w * h * sc) {
                if (sc == 1) return new Pixels(w, h, 1, src);
                byte[] out = new byte[w * h * 3];
                for (int i = 0, o = 0; i < src.length; i += sc, o += 3) {
                    if (sc == 3) {
                        out[o] = src[i + 2];
                        out[o + 1] = src[i + 1];
                        out[o + 2] = src[i];
                    } else {
                        int a = src[i] & 0xff;
                        out[o] = (byte) over(src[i + 3] & 0xff, a, bgR);
                        out[o + 1] = (byte) over(src[i + 2] & 0xff, a, bgG);
                        out[o + 2] = (byte) over(src[i + 1] & 0xff, a, bgB);
                    }
                }
                return new Pixels(w, h, 3, out);
            }
        }
        ColorModel cm = img.getColorModel();
        int csType = cm.getColorSpace().getType();
        if (!(cm instanceof IndexColorModel) && (csType == ColorSpace.TYPE_GRAY || csType == ColorSpace.TYPE_RGB)
                && cm.getColorSpace().isCS_sRGB() == (csType == ColorSpace.TYPE_RGB)) {
            // Grey, grey+alpha, RGB, RGBA of any bit depth (16-bit PNG): raw samples scaled to 8 bits. Raw, because
            // getRGB would push linear-grey samples through a colour conversion and brighten them.
            int bands = r.getNumBands();
            boolean grey = csType == ColorSpace.TYPE_GRAY;
            boolean alpha = cm.hasAlpha();
            int colour = grey ? 1 : 3;
            int[] max = new int[bands];
            for (int b = 0; b < bands; b++) max[b] = (1 << cm.getComponentSize(b)) - 1;
            int[] row = new int[w * bands];
            byte[] out = new byte[w * h * colour];
            int[] bg = grey ? new int[] {bgY} : new int[] {bgR, bgG, bgB};
            for (int y = 0; y < h; y++) {
                r.getPixels(0, y, w, 1, row);
                for (int x = 0; x < w; x++) {
                    int base = x * bands;
                    int a = alpha ? (int) ((row[base + bands - 1] * 255L + max[bands - 1] / 2) / max[bands - 1]) : 255;
                    for (int c = 0; c < colour; c++) {
                        int v = (int) ((row[base + c] * 255L + max[c] / 2) / max[c]);
                        out[(y * w + x) * colour + c] = (byte) (alpha ? over(v, a, bg[c]) : v);
                    }
                }
            }
            return new Pixels(w, h, colour, out);
        }
        // Palettes, CMYK converted by the reader, other colour spaces: let Java2D convert to sRGB.
        int[] argb = new int[w];
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, argb, 0, w);
            for (int x = 0; x < w; x++) {
                int p = argb[x], a = cm.hasAlpha() ? (p >>> 24) : 255, o = (y * w + x) * 3;
                out[o] = (byte) over((p >> 16) & 0xff, a, bgR);
                out[o + 1] = (byte) over((p >> 8) & 0xff, a, bgG);
                out[o + 2] = (byte) over(p & 0xff, a, bgB);
            }
        }
        return new Pixels(w, h, 3, out);
    }

    /** Grey replicated to three channels, or colour to luminance (ITU-R BT.601 weights). */
    static Pixels channels(Pixels p, int channels) {
        if (p.channels() == channels) return p;
        int n = p.width() * p.height();
        byte[] src = p.data(), out = new byte[n * channels];
        if (channels == 3) {
            for (int i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = src[i];
        } else {
            for (int i = 0; i < n; i++) {
                out[i] = (byte) Math.round(0.299 * (src[3 * i] & 0xff) + 0.587 * (src[3 * i + 1] & 0xff) + 0.114 * (src[3 * i + 2] & 0xff));
            }
        }
        return new Pixels(p.width(), p.height(), channels, out);
    }
}
