package io.sparkvision.data;

import io.sparkvision.model.InputShape;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayInputStream;
import java.io.IOException;

/**
 * Decodes image bytes into normalised CHW floats with a direct raster copy (no per-pixel getRGB calls for the
 * common grey and RGB layouts), then standardises each channel with the dataset's mean and std.
 */
public final class ImageCodec {
    private ImageCodec() {
    }

    public static float[] decode(byte[] bytes, String path, InputShape shape, double[] mean, double[] std) throws IOException {
        // An in-memory stream: ImageIO.read(InputStream) would buffer every image through a temp file.
        BufferedImage img = ImageIO.read(new javax.imageio.stream.MemoryCacheImageInputStream(new ByteArrayInputStream(bytes)));
        if (img == null) throw new IOException(path + ": not a decodable image (" + bytes.length + " bytes)");
        if (img.getWidth() != shape.width() || img.getHeight() != shape.height()) {
            throw new IOException(path + ": image is " + img.getWidth() + "x" + img.getHeight() + ", the dataset expects "
                    + shape.width() + "x" + shape.height() + "; re-run ingest to resize it");
        }
        return toTensor(img, shape, mean, std);
    }

    /** An image already at {@code shape}'s size as normalised CHW floats (direct raster copy for 8-bit grey). */
    public static float[] toTensor(BufferedImage img, InputShape shape, double[] mean, double[] std) {
        int hw = shape.height() * shape.width();
        float[] out = new float[shape.channels() * hw];
        if (img.getType() == BufferedImage.TYPE_BYTE_GRAY && shape.channels() == 1) {
            byte[] px = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
            for (int i = 0; i < hw; i++) out[i] = (px[i] & 0xff) / 255f;
        } else {
            int[] argb = img.getRGB(0, 0, shape.width(), shape.height(), null, 0, shape.width());
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
        }
        for (int c = 0; c < shape.channels(); c++) {
            float m = (float) mean[Math.min(c, mean.length - 1)];
            float s = (float) Math.max(1e-6, std[Math.min(c, std.length - 1)]);
            for (int i = c * hw; i < (c + 1) * hw; i++) out[i] = (out[i] - m) / s;
        }
        return out;
    }
}
