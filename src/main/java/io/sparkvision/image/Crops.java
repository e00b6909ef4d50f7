package io.sparkvision.image;

import java.util.Random;

/**
 * Crops of a stored image to the model's input, from 8-bit channel-major pixels (channels x height x width, the
 * training cache's layout) to CHW floats in [0, 1]: the centre crop that evaluation and scoring take, the random crop
 * of training (AlexNet's recipe) and the bilinear resample of a box that random-resized crops use (ResNet's).
 * Plain loops over arrays, one output array per image and no per-pixel objects: this is the per-example hot path
 * of every training minibatch (see {@code bench input}).
 */
public final class Crops {
    private static final float INV_255 = 1f / 255f;

    private Crops() {
    }

    /** Where a centred crop of {@code crop} starts in {@code size}: the one rule for evaluation, scoring and ingest. */
    public static int centreOffset(int size, int crop) {
        return (size - crop) / 2;
    }

    /** The centre oh x ow of a c x sh x sw uint8 image as floats in [0, 1]. */
    public static float[] centre(byte[] src, int c, int sh, int sw, int oh, int ow) {
        requireFits(sh, sw, oh, ow);
        return box(src, c, sh, sw, centreOffset(sw, ow), centreOffset(sh, oh), oh, ow);
    }

    /**
     * A uniformly placed oh x ow crop. Draws from {@code rnd} only along a side that is larger than the crop, so an
     * image stored at the input size draws nothing (and augments exactly as before stored and input sizes parted).
     */
    public static float[] random(byte[] src, int c, int sh, int sw, int oh, int ow, Random rnd) {
        requireFits(sh, sw, oh, ow);
        int y0 = sh > oh ? rnd.nextInt(sh - oh + 1) : 0;
        int x0 = sw > ow ? rnd.nextInt(sw - ow + 1) : 0;
        return box(src, c, sh, sw, x0, y0, oh, ow);
    }

    /** The oh x ow box at (x0, y0), unscaled, as floats in [0, 1]. */
    public static float[] box(byte[] src, int c, int sh, int sw, int x0, int y0, int oh, int ow) {
        float[] out = new float[c * oh * ow];
        int o = 0;
        for (int k = 0; k < c; k++) {
            int plane = k * sh * sw;
            for (int y = 0; y < oh; y++) {
                int s = plane + (y0 + y) * sw + x0;
                for (int x = 0; x < ow; x++) out[o++] = (src[s + x] & 0xff) / 255f; // as ImagePreparer.tensor, to the bit
            }
        }
        return out;
    }

    /**
     * The (x0, y0, cw, ch) box of a c x sh x sw uint8 image resampled bilinearly to oh x ow floats in [0, 1], in one
     * pass over the output (pixel centres aligned, as torchvision's {@code resize} with antialias off). Separable:
     * each source row the output needs is interpolated along x once (column positions and weights computed once per
     * image), and output rows blend two such rows in a loop the JIT vectorises; a random-resized crop mostly enlarges,
     * so a source row serves several output rows.
     */
    public static float[] resample(byte[] src, int c, int sh, int sw, int x0, int y0, int cw, int ch, int oh, int ow) {
        int[] xa = new int[ow], xb = new int[ow];
        float[] fx = new float[ow];
        for (int x = 0; x < ow; x++) {
            double sx = Math.max(0, Math.min(cw - 1, (x + 0.5) * cw / ow - 0.5));
            int ix = (int) sx;
            xa[x] = x0 + ix;
            xb[x] = x0 + Math.min(cw - 1, ix + 1);
            fx[x] = (float) (sx - ix);
        }
        int[] ya = new int[oh], yb = new int[oh];
        float[] gy = new float[oh], hy = new float[oh];
        for (int y = 0; y < oh; y++) {
            double sy = Math.max(0, Math.min(ch - 1, (y + 0.5) * ch / oh - 0.5));
            int iy = (int) sy;
            ya[y] = y0 + iy;
            yb[y] = y0 + Math.min(ch - 1, iy + 1);
            float fy = (float) (sy - iy);
            gy[y] = (1 - fy) * INV_255;
            hy[y] = fy * INV_255;
        }
        float[] out = new float[c * oh * ow];
        float[] rowA = new float[ow], rowB = new float[ow];
        for (int k = 0; k < c; k++) {
            int plane = k * sh * sw, ia = -1, ib = -1;
            for (int y = 0; y < oh; y++) {
                if (ya[y] != ia) {
                    if (ya[y] == ib) {
                        float[] t = rowA;
                        rowA = rowB;
                        rowB = t;
                        ia = ib;
                        ib = -1;
                    } else {
                        alongX(src, plane + ya[y] * sw, xa, xb, fx, rowA);
                        ia = ya[y];
                    }
                }
                if (yb[y] != ib) {
                    alongX(src, plane + yb[y] * sw, xa, xb, fx, rowB);
                    ib = yb[y];
                }
                float g = gy[y], h = hy[y];
                int o = (k * oh + y) * ow;
                for (int x = 0; x < ow; x++) out[o + x] = rowA[x] * g + rowB[x] * h;
            }
        }
        return out;
    }

    /** One source row (starting at {@code row}) interpolated at the output's column positions, in 0..255. */
    private static void alongX(byte[] src, int row, int[] xa, int[] xb, float[] fx, float[] out) {
        for (int x = 0; x < out.length; x++) {
            int l = src[row + xa[x]] & 0xff;
            out[x] = l + fx[x] * ((src[row + xb[x]] & 0xff) - l);
        }
    }

    /** The centre w x h of interleaved pixels (what the score job crops a prepared image to). */
    public static Pixels centre(Pixels p, int w, int h) {
        requireFits(p.height(), p.width(), h, w);
        if (p.width() == w && p.height() == h) return p;
        int c = p.channels(), x0 = centreOffset(p.width(), w), y0 = centreOffset(p.height(), h);
        byte[] out = new byte[w * h * c];
        for (int y = 0; y < h; y++) System.arraycopy(p.data(), ((y0 + y) * p.width() + x0) * c, out, y * w * c, w * c);
        return new Pixels(w, h, c, out);
    }

    /** Interleaved pixels (height x width x channels) as channel-major bytes, the cache's layout. */
    public static byte[] channelMajor(Pixels p) {
        int c = p.channels(), hw = p.width() * p.height();
        byte[] in = p.data();
        if (c == 1) return in;
        byte[] out = new byte[in.length];
        for (int i = 0, j = 0; i < hw; i++) {
            for (int k = 0; k < c; k++) out[k * hw + i] = in[j++];
        }
        return out;
    }

    private static void requireFits(int sh, int sw, int oh, int ow) {
        if (sh < oh || sw < ow) {
            throw new IllegalArgumentException("a " + sw + "x" + sh + " image is smaller than the " + ow + "x" + oh
                    + " input it is cropped to: set model.input-size at most the dataset's ingest.image-size, or re-ingest larger");
        }
    }
}
