package io.sparkvision.score;

import io.sparkvision.data.DecodeChecks;
import io.sparkvision.model.InputShape;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

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

    /**
     * Readers of the common formats, one set per task thread, reused image after image: looking a reader up through
     * ImageIO's registry and creating it cost more than decoding a 28x28 PNG (measured with JFR in bench score).
     */
    private static final ThreadLocal<java.util.Map<String, ImageReader>> READERS = ThreadLocal.withInitial(java.util.HashMap::new);

    private static BufferedImage decode(byte[] bytes) throws IOException {
        if (bytes.length == 0) throw new IOException("empty file");
        // Straight over the bytes: no temp-file cache, and none of MemoryCacheImageInputStream's global bookkeeping.
        try (ImageInputStream iis = new com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream(bytes)) {
            String format = sniff(bytes);
            ImageReader reader = format == null ? null : READERS.get().computeIfAbsent(format, f -> {
                Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName(f);
                return it.hasNext() ? it.next() : null;
            });
            boolean shared = reader != null;
            if (!shared) {
                Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
                if (!readers.hasNext()) throw new IOException("not an image (no decoder recognises it)");
                reader = readers.next();
            }
            try {
                reader.setInput(iis, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_PIXELS) {
                    throw new IOException("header claims " + reader.getWidth(0) + "x" + reader.getHeight(0) + " pixels; refused");
                }
                // A reused reader keeps its listeners: start each image with only this image's.
                reader.removeAllIIOReadWarningListeners();
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((src, msg) -> warnings.add(msg));
                BufferedImage img;
                try {
                    img = reader.read(0);
                } catch (IOException | RuntimeException e) {
                    String unsupported = DecodeChecks.unsupportedJpeg(bytes);
                    if (unsupported != null) throw new IOException(unsupported, e);
                    throw e;
                }
                if (img == null) throw new IOException("decoder returned no image");
                // Grey-filled rows of a truncated JPEG would be scored as if they were the image; benign warnings
                // (CMYK without an ICC profile, a missing end marker) are not errors.
                String damage = DecodeChecks.damage(warnings);
                if (damage != null) throw new IOException("corrupt or truncated image: " + damage);
                return img;
            } catch (RuntimeException e) {
                throw new IOException("corrupt image: " + e.getMessage(), e);
            } finally {
                if (shared) {
                    reader.setInput(null);
                    reader.removeAllIIOReadWarningListeners();
                } else {
                    reader.dispose();
                }
            }
        }
    }

    /** The format a file's first bytes announce, for the formats worth a reused reader; null for the rest. */
    static String sniff(byte[] b) {
        if (b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') return "png";
        if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) return "jpeg";
        return null;
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
