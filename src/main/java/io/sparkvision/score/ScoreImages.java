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
        return io.sparkvision.data.ImageCodec.toTensor(img, shape, mean, std);
    }

    private static BufferedImage decode(byte[] bytes) throws IOException {
        if (bytes.length == 0) throw new IOException("empty file");
        // In memory: ImageIO.createImageInputStream may buffer through a temp file per image.
        try (ImageInputStream iis = new javax.imageio.stream.MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
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
