package io.sparkvision.image;

/**
 * Resampling on interleaved 8-bit pixels, separable: area averaging when shrinking (every source pixel
 * contributes, so no aliasing from a 1000-pixel photo down to 64), linear interpolation when enlarging.
 * Plain Java on arrays: Graphics2D's bilinear scaling aliases badly on large reductions and AWT's area
 * averaging filter is an order of magnitude slower.
 */
public final class Resizer {
    private Resizer() {
    }

    /** Shorter side to {@code size}, then the centre size x size square: the centre square resampled directly. */
    public static Pixels shorterSideCrop(Pixels p, int size) {
        int side = Math.min(p.width(), p.height());
        int x0 = (p.width() - side) / 2, y0 = (p.height() - side) / 2;
        return resample(p, x0, y0, side, side, size, size);
    }

    /** Shorter side to {@code size}, the other side scaled by the same factor: the whole image, nothing cropped. */
    public static Pixels shorterSide(Pixels p, int size) {
        double scale = (double) size / Math.min(p.width(), p.height());
        int w = p.width() <= p.height() ? size : Math.max(size, (int) Math.round(p.width() * scale));
        int h = p.height() < p.width() ? size : Math.max(size, (int) Math.round(p.height() * scale));
        return resample(p, 0, 0, p.width(), p.height(), w, h);
    }

    /** Longer side to {@code size}, centred on a size x size canvas of {@code background} (0xRRGGBB). */
    public static Pixels keepAspect(Pixels p, int size, int background) {
        double scale = (double) size / Math.max(p.width(), p.height());
        int w = Math.max(1, (int) Math.round(p.width() * scale)), h = Math.max(1, (int) Math.round(p.height() * scale));
        Pixels r = resample(p, 0, 0, p.width(), p.height(), w, h);
        int c = p.channels();
        byte[] out = new byte[size * size * c];
        byte[] bg = PixelConversion.background(background, c);
        for (int i = 0; i < out.length; i++) out[i] = bg[i % c];
        int ox = (size - w) / 2, oy = (size - h) / 2;
        for (int y = 0; y < h; y++) System.arraycopy(r.data(), y * w * c, out, ((oy + y) * size + ox) * c, w * c);
        return new Pixels(size, size, c, out);
    }

    /** Resamples the source rectangle (x0, y0, sw, sh) of {@code p} to ow x oh. */
    public static Pixels resample(Pixels p, int x0, int y0, int sw, int sh, int ow, int oh) {
        int c = p.channels(), w = p.width();
        if (x0 == 0 && y0 == 0 && sw == ow && sh == oh && w == sw && p.height() == sh) return p;
        Axis ax = Axis.of(sw, ow), ay = Axis.of(sh, oh);
        byte[] src = p.data();
        // Horizontal pass over the rows the vertical pass needs, into floats.
        float[] tmp = new float[sh * ow * c];
        for (int y = 0; y < sh; y++) {
            int rowBase = ((y0 + y) * w + x0) * c;
            int outBase = y * ow * c;
            for (int x = 0; x < ow; x++) {
                int start = ax.start[x];
                float[] wts = ax.weights[x];
                for (int ch = 0; ch < c; ch++) {
                    float acc = 0;
                    for (int k = 0; k < wts.length; k++) acc += wts[k] * (src[rowBase + (start + k) * c + ch] & 0xff);
                    tmp[outBase + x * c + ch] = acc;
                }
            }
        }
        byte[] out = new byte[oh * ow * c];
        int rowLen = ow * c;
        for (int y = 0; y < oh; y++) {
            int start = ay.start[y];
            float[] wts = ay.weights[y];
            int o = y * rowLen;
            for (int i = 0; i < rowLen; i++) {
                float acc = 0;
                for (int k = 0; k < wts.length; k++) acc += wts[k] * tmp[(start + k) * rowLen + i];
                int v = Math.round(acc);
                out[o + i] = (byte) (v < 0 ? 0 : Math.min(255, v));
            }
        }
        return new Pixels(ow, oh, c, out);
    }

    /** Per output index along one axis: first source index and the weights of the source pixels from there. */
    private static final class Axis {
        final int[] start;
        final float[][] weights;

        private Axis(int n) {
            start = new int[n];
            weights = new float[n][];
        }

        static Axis of(int in, int out) {
            Axis a = new Axis(out);
            double scale = (double) in / out;
            for (int o = 0; o < out; o++) {
                if (scale > 1) {
                    // Area: the output pixel covers source interval [lo, hi); partial pixels at both ends.
                    double lo = o * scale, hi = Math.min(in, (o + 1) * scale);
                    int first = (int) Math.floor(lo), last = Math.min(in - 1, (int) Math.ceil(hi) - 1);
                    float[] w = new float[last - first + 1];
                    for (int i = first; i <= last; i++) {
                        w[i - first] = (float) ((Math.min(hi, i + 1) - Math.max(lo, i)) / scale);
                    }
                    a.start[o] = first;
                    a.weights[o] = w;
                } else {
                    // Linear, pixel centres aligned (the convention of PIL and OpenCV).
                    double s = Math.max(0, Math.min(in - 1, (o + 0.5) * scale - 0.5));
                    int i0 = (int) Math.floor(s);
                    int i1 = Math.min(in - 1, i0 + 1);
                    float f = (float) (s - i0);
                    a.start[o] = i0;
                    a.weights[o] = i1 == i0 ? new float[] {1f} : new float[] {1 - f, f};
                }
            }
            return a;
        }
    }
}
