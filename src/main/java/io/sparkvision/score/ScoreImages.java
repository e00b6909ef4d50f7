package io.sparkvision.score;

import io.sparkvision.model.InputShape;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;

/**
 * Turns arbitrary image bytes into what a trained model expects: centre crop to the model's aspect, resize,
 * channels, per-channel normalisation with the statistics the model was trained with.
 */
final class ScoreImages {
    /** Refuse images whose header claims more pixels than this, before decoding them. */
    static final long MAX_PIXELS = 100_000_000L;

    private ScoreImages() {
    }

    static float[] prepare(byte[] bytes, InputShape shape, double[] mean, double[] std) throws IOException {
        BufferedImage img = decode(bytes);
        if (img.getWidth() != shape.width() || img.getHeight() != shape.height()) img = cropAndResize(img, shape);
        int hw = shape.height() * shape.width();
        int[] argb = img.getRGB(0, 0, shape.width(), shape.height(), null, 0, shape.width());
        float[] out = new float[shape.channels() * hw];
        for (int i = 0; i < hw; i++) {
            int p = argb[i];
            int r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
            if (shape.channels() == 1) {
                out[i] = (0.299f * r + 0.587f * g + 0.114f * b) / 255f;
            } else {
                out[i] = r / 255f;
                out[hw + i] = g / 255f;
                out[2 * hw + i] = b / 255f;
            }
        }
        for (int c = 0; c < shape.channels(); c++) {
            float m = (float) mean[Math.min(c, mean.length - 1)];
            float s = (float) Math.max(1e-6, std[Math.min(c, std.length - 1)]);
            for (int i = c * hw; i < (c + 1) * hw; i++) out[i] = (out[i] - m) / s;
        }
        return out;
    }

    private static BufferedImage decode(byte[] bytes) throws IOException {
        if (bytes.length == 0) throw new IOException("empty file");
        try (ImageInputStream iis = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
            if (!readers.hasNext()) throw new IOException("not an image (no decoder recognises it)");
            ImageReader reader = readers.next();
            try {
                reader.setInput(iis, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_PIXELS) {
                    throw new IOException("header claims " + reader.getWidth(0) + "x" + reader.getHeight(0) + " pixels; refused");
                }
                BufferedImage img = reader.read(0);
                if (img == null) throw new IOException("decoder returned no image");
                return img;
            } catch (RuntimeException e) {
                throw new IOException("corrupt image: " + e.getMessage(), e);
            } finally {
                reader.dispose();
            }
        }
    }

    private static BufferedImage cropAndResize(BufferedImage img, InputShape shape) {
        double target = shape.width() / (double) shape.height();
        int w = img.getWidth(), h = img.getHeight();
        int cw = w, ch = h;
        if (w / (double) h > target) cw = (int) Math.round(h * target);
        else ch = (int) Math.round(w / target);
        int x = (w - cw) / 2, y = (h - ch) / 2;
        BufferedImage out = new BufferedImage(shape.width(), shape.height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setColor(java.awt.Color.WHITE); // transparent pixels become white, not black
        g.fillRect(0, 0, shape.width(), shape.height());
        g.drawImage(img, 0, 0, shape.width(), shape.height(), x, y, x + cw, y + ch, null);
        g.dispose();
        return out;
    }
}
