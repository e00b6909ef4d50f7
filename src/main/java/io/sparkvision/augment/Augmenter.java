package io.sparkvision.augment;

import io.sparkvision.image.Crops;

import java.util.Random;

/**
 * Training-time augmentation of one image: CHW floats in [0, 1], before per-channel normalisation. Plain Java on
 * float arrays rather than DataVec's ImageTransforms: those need datavec-data-image, which pulls OpenCV/JavaCV
 * natives for every OS (excluded from the pom on purpose), and work on OpenCV Mats we would convert to and from.
 * All randomness comes from the caller's {@link Random}, so a (seed, epoch) gives the same batches every run.
 */
public final class Augmenter {
    // ImageNet RGB eigenvalues/eigenvectors, as used by AlexNet (Krizhevsky et al. 2012) and fb.resnet.torch.
    private static final double[] EIGVAL = {0.2175, 0.0188, 0.0045};
    private static final double[][] EIGVEC = {
            {-0.5675, 0.7192, 0.4009},
            {-0.5808, -0.0045, -0.8140},
            {-0.5836, -0.6948, 0.4203}};

    private Augmenter() {
    }

    public static float[] apply(float[] px, int c, int h, int w, AugmentSettings a, Random rnd) {
        float[] x = px.clone();
        if (a.randomResizedCrop()) x = randomResizedCrop(x, c, h, w, a.rrcMinScale(), rnd);
        return afterCrop(x, c, h, w, a, rnd);
    }

    /**
     * A training example from a cached c x sh x sw uint8 image: a random-resized crop of the whole stored image to
     * oh x ow (ResNet's recipe) when set, else a uniformly placed oh x ow crop (AlexNet's), then the other
     * transforms. The draws are those of {@link #apply} when the stored image is the input's size.
     */
    public static float[] train(byte[] src, int c, int sh, int sw, int oh, int ow, AugmentSettings a, Random rnd) {
        float[] x = a.randomResizedCrop() ? randomResizedCrop(src, c, sh, sw, oh, ow, a.rrcMinScale(), rnd)
                : Crops.random(src, c, sh, sw, oh, ow, rnd);
        return afterCrop(x, c, oh, ow, a, rnd);
    }

    /** Everything after the crop, in place on a fresh array {@code x} (c x h x w). */
    private static float[] afterCrop(float[] x, int c, int h, int w, AugmentSettings a, Random rnd) {
        if (a.cropPadding() > 0) x = paddedCrop(x, c, h, w, a.cropPadding(), rnd);
        if (a.flip() && rnd.nextBoolean()) flip(x, c, h, w);
        if (a.brightness() > 0) scale(x, factor(a.brightness(), rnd));
        if (a.contrast() > 0) contrast(x, c, h * w, factor(a.contrast(), rnd));
        if (a.saturation() > 0 && c == 3) saturation(x, h * w, factor(a.saturation(), rnd));
        if (a.pcaLighting() > 0 && c == 3) lighting(x, h * w, a.pcaLighting(), rnd);
        if (a.blurProbability() > 0 && rnd.nextDouble() < a.blurProbability()) {
            blur(x, c, h, w, 0.1 + rnd.nextDouble() * (a.blurSigmaMax() - 0.1));
        }
        // Crops, flips and blur keep pixels in [0, 1]; only the colour transforms can leave it.
        if (a.brightness() > 0 || a.contrast() > 0 || a.saturation() > 0 || a.pcaLighting() > 0) {
            for (int i = 0; i < x.length; i++) x[i] = Math.max(0f, Math.min(1f, x[i]));
        }
        return x;
    }

    private static float factor(double amount, Random rnd) {
        return (float) (1 - amount + 2 * amount * rnd.nextDouble());
    }

    static float[] randomResizedCrop(float[] x, int c, int h, int w, double minScale, Random rnd) {
        double area = (double) h * w;
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (minScale + rnd.nextDouble() * (1 - minScale));
            double ratio = Math.exp(Math.log(3.0 / 4) + rnd.nextDouble() * (Math.log(4.0 / 3) - Math.log(3.0 / 4)));
            int cw = (int) Math.round(Math.sqrt(target * ratio)), ch = (int) Math.round(Math.sqrt(target / ratio));
            if (cw >= 1 && ch >= 1 && cw <= w && ch <= h) {
                int x0 = rnd.nextInt(w - cw + 1), y0 = rnd.nextInt(h - ch + 1);
                return bilinear(x, c, h, w, x0, y0, cw, ch);
            }
        }
        return x; // fall back to the whole image, as torchvision does after failed attempts
    }

    /**
     * torchvision's RandomResizedCrop on a cached uint8 image: a box of a random area (minScale..1 of the stored
     * image) and aspect ratio (3/4..4/3), resampled to oh x ow in one bilinear pass. After ten failed draws, the
     * largest centred box of the output's aspect ratio.
     */
    static float[] randomResizedCrop(byte[] src, int c, int sh, int sw, int oh, int ow, double minScale, Random rnd) {
        double area = (double) sh * sw;
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (minScale + rnd.nextDouble() * (1 - minScale));
            double ratio = Math.exp(Math.log(3.0 / 4) + rnd.nextDouble() * (Math.log(4.0 / 3) - Math.log(3.0 / 4)));
            int cw = (int) Math.round(Math.sqrt(target * ratio)), ch = (int) Math.round(Math.sqrt(target / ratio));
            if (cw >= 1 && ch >= 1 && cw <= sw && ch <= sh) {
                int x0 = rnd.nextInt(sw - cw + 1), y0 = rnd.nextInt(sh - ch + 1);
                return Crops.resample(src, c, sh, sw, x0, y0, cw, ch, oh, ow);
            }
        }
        double want = (double) ow / oh;
        int cw = sw, ch = sh;
        if ((double) sw / sh > want) cw = (int) Math.round(sh * want);
        else ch = (int) Math.round(sw / want);
        return Crops.resample(src, c, sh, sw, Crops.centreOffset(sw, cw), Crops.centreOffset(sh, ch), cw, ch, oh, ow);
    }

    /** Resamples the (x0, y0, cw, ch) box to the full h x w. */
    static float[] bilinear(float[] x, int c, int h, int w, int x0, int y0, int cw, int ch) {
        float[] out = new float[x.length];
        int hw = h * w;
        for (int y = 0; y < h; y++) {
            double sy = Math.max(0, Math.min(ch - 1, (y + 0.5) * ch / h - 0.5));
            int iy = (int) sy, iy1 = Math.min(ch - 1, iy + 1);
            float fy = (float) (sy - iy);
            for (int xx = 0; xx < w; xx++) {
                double sx = Math.max(0, Math.min(cw - 1, (xx + 0.5) * cw / w - 0.5));
                int ix = (int) sx, ix1 = Math.min(cw - 1, ix + 1);
                float fx = (float) (sx - ix);
                for (int k = 0; k < c; k++) {
                    int b = k * hw;
                    float a00 = x[b + (y0 + iy) * w + x0 + ix], a01 = x[b + (y0 + iy) * w + x0 + ix1];
                    float a10 = x[b + (y0 + iy1) * w + x0 + ix], a11 = x[b + (y0 + iy1) * w + x0 + ix1];
                    out[b + y * w + xx] = (a00 * (1 - fx) + a01 * fx) * (1 - fy) + (a10 * (1 - fx) + a11 * fx) * fy;
                }
            }
        }
        return out;
    }

    static float[] paddedCrop(float[] x, int c, int h, int w, int pad, Random rnd) {
        int dx = rnd.nextInt(2 * pad + 1) - pad, dy = rnd.nextInt(2 * pad + 1) - pad;
        float[] out = new float[x.length];
        for (int k = 0; k < c; k++) {
            for (int y = 0; y < h; y++) {
                int sy = y + dy;
                if (sy < 0 || sy >= h) continue;
                for (int xx = 0; xx < w; xx++) {
                    int sx = xx + dx;
                    if (sx >= 0 && sx < w) out[k * h * w + y * w + xx] = x[k * h * w + sy * w + sx];
                }
            }
        }
        return out;
    }

    static void flip(float[] x, int c, int h, int w) {
        for (int k = 0; k < c; k++) {
            for (int y = 0; y < h; y++) {
                int row = k * h * w + y * w;
                for (int i = 0, j = w - 1; i < j; i++, j--) {
                    float t = x[row + i];
                    x[row + i] = x[row + j];
                    x[row + j] = t;
                }
            }
        }
    }

    private static void scale(float[] x, float f) {
        for (int i = 0; i < x.length; i++) x[i] *= f;
    }

    private static void contrast(float[] x, int c, int hw, float f) {
        double mean = 0;
        for (int i = 0; i < hw; i++) mean += c == 3 ? 0.299 * x[i] + 0.587 * x[hw + i] + 0.114 * x[2 * hw + i] : x[i];
        float m = (float) (mean / hw);
        for (int i = 0; i < x.length; i++) x[i] = m + f * (x[i] - m);
    }

    private static void saturation(float[] x, int hw, float f) {
        for (int i = 0; i < hw; i++) {
            float g = 0.299f * x[i] + 0.587f * x[hw + i] + 0.114f * x[2 * hw + i];
            for (int k = 0; k < 3; k++) x[k * hw + i] = g + f * (x[k * hw + i] - g);
        }
    }

    private static void lighting(float[] x, int hw, double std, Random rnd) {
        double[] alpha = {rnd.nextGaussian() * std, rnd.nextGaussian() * std, rnd.nextGaussian() * std};
        for (int k = 0; k < 3; k++) {
            float delta = 0;
            for (int j = 0; j < 3; j++) delta += (float) (EIGVEC[k][j] * alpha[j] * EIGVAL[j]);
            for (int i = 0; i < hw; i++) x[k * hw + i] += delta;
        }
    }

    static void blur(float[] x, int c, int h, int w, double sigma) {
        int r = (int) Math.ceil(3 * sigma);
        float[] k = new float[2 * r + 1];
        float sum = 0;
        for (int i = -r; i <= r; i++) sum += k[i + r] = (float) Math.exp(-i * i / (2 * sigma * sigma));
        for (int i = 0; i < k.length; i++) k[i] /= sum;
        float[] tmp = new float[h * w];
        for (int ch = 0; ch < c; ch++) {
            int b = ch * h * w;
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < w; xx++) {
                    float acc = 0;
                    for (int i = -r; i <= r; i++) acc += k[i + r] * x[b + y * w + Math.max(0, Math.min(w - 1, xx + i))];
                    tmp[y * w + xx] = acc;
                }
            }
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < w; xx++) {
                    float acc = 0;
                    for (int i = -r; i <= r; i++) acc += k[i + r] * tmp[Math.max(0, Math.min(h - 1, y + i)) * w + xx];
                    x[b + y * w + xx] = acc;
                }
            }
        }
    }
}
