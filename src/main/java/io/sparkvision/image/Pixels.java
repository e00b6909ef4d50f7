package io.sparkvision.image;

import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/** 8-bit pixels, interleaved (height x width x channels, RGB order), channels 1 or 3. */
public record Pixels(int width, int height, int channels, byte[] data) {

    /** Encodes as PNG (lossless, so the train job sees exactly the ingested pixels). */
    public byte[] png() throws IOException {
        BufferedImage img = new BufferedImage(width, height,
                channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        byte[] raster = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        if (channels == 1) {
            System.arraycopy(data, 0, raster, 0, data.length);
        } else {
            for (int i = 0; i < data.length; i += 3) {
                raster[i] = data[i + 2];
                raster[i + 1] = data[i + 1];
                raster[i + 2] = data[i];
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(width * height * channels / 2 + 256);
        // An in-memory stream: ImageIO.write(img, fmt, OutputStream) buffers through a temp file per image.
        ImageWriter w = ImageIO.getImageWritersByFormatName("png").next();
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
            w.setOutput(ios);
            w.write(img);
        } finally {
            w.dispose();
        }
        return out.toByteArray();
    }

    /** Per-channel sums of v and v^2 with v = pixel / 255, for the dataset's mean and std. */
    public double[] sums() {
        double[] s = new double[2 * channels];
        for (int i = 0; i < data.length; i++) {
            double v = (data[i] & 0xff) / 255.0;
            int c = i % channels;
            s[c] += v;
            s[channels + c] += v * v;
        }
        return s;
    }
}
