package io.sparkvision.image;

import com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream;

import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The one image-preparation contract, applied by ingest (to write the dataset's PNGs), by training and evaluation
 * (reading those PNGs) and by the score job (on raw files), with the parameters of an {@link ImagePreparation}:
 * <ol>
 *   <li>decode: the header is read first and an image above the pixel limit is refused before any pixel buffer
 *   exists; large images are subsampled by the reader (down to at least twice the target size, the area resize
 *   then averages); decoder warnings that mean missing or corrupt data refuse the image ({@link DecodeChecks});</li>
 *   <li>flatten alpha onto the background, as 8-bit grey or RGB ({@link PixelConversion#toPixels});</li>
 *   <li>channels: colour to luminance or grey replicated;</li>
 *   <li>orient: EXIF orientation of JPEGs ({@link Orientation}); pixel-wise steps commute with it;</li>
 *   <li>resize: shorter-side-crop or keep-aspect, area averaging ({@link Resizer});</li>
 *   <li>normalise: CHW floats in [0, 1], minus the per-channel mean, over the std ({@link #tensor}).</li>
 * </ol>
 * Anything that cannot be prepared is an {@link Unpreparable} whose message says what is wrong and what to do.
 */
public final class ImagePreparer {
    static {
        // Executors load the product from a jar added after ImageIO's first scan: register TwelveMonkeys' readers
        // (CMYK/YCCK JPEG) from the classpath that holds this class.
        ImageIO.scanForPlugins();
    }

    /** Why one image cannot be prepared; never a reason to fail a task. */
    public static final class Unpreparable extends IOException {
        public Unpreparable(String reason) {
            super(reason);
        }
    }

    /**
     * Readers of the common formats, one set per task thread, reused image after image: looking a reader up through
     * ImageIO's registry and creating it cost more than decoding a 28x28 PNG (measured with JFR in bench score).
     */
    private static final ThreadLocal<Map<String, ImageReader>> READERS = ThreadLocal.withInitial(HashMap::new);

    private ImagePreparer() {
    }

    /** Image bytes -> prepared 8-bit pixels (steps 1-5). {@code limitName} names the pixel limit in messages. */
    public static Pixels pixels(byte[] bytes, ImagePreparation prep, long maxPixels, String limitName) throws Unpreparable {
        Decoded d = decode(bytes, prep, maxPixels, limitName);
        Pixels p = PixelConversion.channels(PixelConversion.toPixels(d.image, prep.backgroundRgb()), prep.channels());
        if (d.jpeg) p = Orientation.apply(p, Orientation.ofJpeg(bytes));
        if (ImagePreparation.SHORTER_SIDE.equals(prep.resize())) return Resizer.shorterSide(p, prep.size());
        return ImagePreparation.KEEP_ASPECT.equals(prep.resize())
                ? Resizer.keepAspect(p, prep.size(), prep.backgroundRgb())
                : Resizer.shorterSideCrop(p, prep.size());
    }

    /**
     * All six steps: image bytes -> the normalised CHW floats a model takes. A model whose input is smaller than the
     * stored size ({@link ImagePreparation#inputSize}) takes the centre crop, as evaluation does from the dataset.
     */
    public static float[] tensor(byte[] bytes, ImagePreparation prep, long maxPixels, String limitName,
                                 double[] mean, double[] std) throws Unpreparable {
        Pixels p = pixels(bytes, prep, maxPixels, limitName);
        return tensor(Crops.centre(p, prep.inputSide(), prep.inputSide()), mean, std);
    }

    /**
     * A dataset's stored image (already prepared at ingest) decoded to 8-bit channel-major pixels, at whatever size it
     * was stored (square, or keeping its aspect): what the training cache holds. Only the channel count is converted.
     */
    public static Pixels stored(byte[] bytes, int channels, int storedSize) throws IOException {
        ImagePreparation asIs = ImagePreparation.defaults(storedSize, channels);
        return PixelConversion.channels(PixelConversion.toPixels(decode(bytes, asIs, Long.MAX_VALUE, "the pixel limit").image,
                asIs.backgroundRgb()), channels);
    }

    /**
     * An image that was already prepared (a dataset's PNG, without alpha) as a model's normalised input: it must be
     * at the dataset's size, which no step may silently change here; only channels and normalisation apply.
     */
    public static float[] prepared(byte[] bytes, String path, InputShape shape, double[] mean, double[] std) throws IOException {
        ImagePreparation asIs = ImagePreparation.defaults(Math.max(shape.width(), shape.height()), shape.channels());
        Pixels p = PixelConversion.channels(PixelConversion.toPixels(decode(bytes, asIs, Long.MAX_VALUE, "the pixel limit").image,
                asIs.backgroundRgb()), shape.channels());
        if (p.width() != shape.width() || p.height() != shape.height()) {
            throw new IOException(path + ": image is " + p.width() + "x" + p.height() + ", the dataset expects "
                    + shape.width() + "x" + shape.height() + "; re-run ingest to resize it");
        }
        return tensor(p, mean, std);
    }

    /**
     * An already-prepared image (a dataset's PNG) as its 8-bit pixels at the size it has, in {@code channels}: what
     * {@link #prepared} decodes, before the floats. Converting a dataset to Parquet shards keeps exactly these pixels.
     */
    public static Pixels asStored(byte[] bytes, int channels) throws Unpreparable {
        ImagePreparation asIs = ImagePreparation.defaults(1 << 20, channels); // no subsampling while decoding
        return PixelConversion.channels(PixelConversion.toPixels(decode(bytes, asIs, Long.MAX_VALUE, "the pixel limit").image,
                asIs.backgroundRgb()), channels);
    }

    /** Step 6: interleaved 8-bit pixels -> CHW floats in [0, 1], then each channel standardised. */
    public static float[] tensor(Pixels p, double[] mean, double[] std) {
        int hw = p.width() * p.height(), c = p.channels();
        byte[] px = p.data();
        float[] out = new float[c * hw];
        // One pass through a table of the 256 values per channel: the same float operations as dividing by 255 and
        // then standardising (so the same floats), without a second pass and a division per value (the score job
        // spent 6% of its executor time here on ResNet-18 64², JFR).
        float[] table = new float[256];
        for (int ch = 0; ch < c; ch++) {
            float m = (float) mean[Math.min(ch, mean.length - 1)];
            float s = (float) Math.max(1e-6, std[Math.min(ch, std.length - 1)]);
            boolean identity = m == 0f && s == 1f;
            for (int v = 0; v < 256; v++) table[v] = identity ? v / 255f : (v / 255f - m) / s;
            int base = ch * hw;
            for (int i = 0, j = ch; i < hw; i++, j += c) out[base + i] = table[px[j] & 0xff];
        }
        return out;
    }

    /** (v - mean[c]) / std[c] per channel of CHW floats; a single mean/std applies to every channel. */
    public static void normaliseInPlace(float[] chw, int channels, int hw, double[] mean, double[] std) {
        for (int c = 0; c < channels; c++) {
            float m = (float) mean[Math.min(c, mean.length - 1)];
            float s = (float) Math.max(1e-6, std[Math.min(c, std.length - 1)]);
            if (m == 0f && s == 1f) continue;
            for (int i = c * hw; i < (c + 1) * hw; i++) chw[i] = (chw[i] - m) / s;
        }
    }

    private record Decoded(BufferedImage image, boolean jpeg) {
    }

    private static Decoded decode(byte[] bytes, ImagePreparation prep, long maxPixels, String limitName) throws Unpreparable {
        if (bytes.length == 0) throw new Unpreparable("zero-byte file: re-copy it from the original source or delete it");
        // Straight over the bytes: no temp-file cache, and none of MemoryCacheImageInputStream's global bookkeeping.
        try (ImageInputStream iis = new ByteArrayImageInputStream(bytes)) {
            String format = sniff(bytes);
            ImageReader reader = format == null ? null : READERS.get().computeIfAbsent(format, f -> {
                Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName(f);
                return it.hasNext() ? it.next() : null;
            });
            boolean shared = reader != null;
            if (!shared) {
                Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
                if (!readers.hasNext()) {
                    throw new Unpreparable("not an image: no JPEG/PNG/GIF/BMP decoder recognises its first bytes ("
                            + hexStart(bytes) + "); remove non-image files from the source");
                }
                reader = readers.next();
            }
            try {
                String fmt = reader.getFormatName();
                return new Decoded(read(reader, fmt, iis, bytes, prep, maxPixels, limitName), fmt.equalsIgnoreCase("jpeg"));
            } finally {
                if (shared) {
                    reader.setInput(null);
                    reader.removeAllIIOReadWarningListeners();
                } else {
                    reader.dispose();
                }
            }
        } catch (Unpreparable e) {
            throw e;
        } catch (IOException e) {
            throw new Unpreparable("unreadable: " + e);
        } catch (OutOfMemoryError e) {
            throw new Unpreparable("too large to decode in this JVM's memory: raise executor memory or lower " + limitName);
        }
    }

    private static BufferedImage read(ImageReader reader, String fmt, ImageInputStream iis, byte[] bytes, ImagePreparation prep,
                                      long maxPixels, String limitName) throws Unpreparable {
        reader.setInput(iis, true, true);
        int w, h;
        try {
            w = reader.getWidth(0);
            h = reader.getHeight(0);
        } catch (IOException | RuntimeException e) {
            throw new Unpreparable("corrupt " + fmt + " header: " + e.getMessage());
        }
        if (w <= 0 || h <= 0) throw new Unpreparable("header claims " + w + "x" + h + " pixels");
        if ((long) w * h > maxPixels) {
            throw new Unpreparable("header claims " + w + "x" + h + " = " + (long) w * h + " pixels, above " + limitName
                    + " = " + maxPixels + "; not decoded (raise the limit if the image is genuine)");
        }
        int side = ImagePreparation.KEEP_ASPECT.equals(prep.resize()) ? Math.max(w, h) : Math.min(w, h);
        int sub = Math.max(1, side / (2 * prep.size()));
        ImageReadParam param = reader.getDefaultReadParam();
        if (sub > 1) param.setSourceSubsampling(sub, sub, 0, 0);
        // A reused reader keeps its listeners: start each image with only this image's.
        reader.removeAllIIOReadWarningListeners();
        List<String> warnings = new ArrayList<>();
        reader.addIIOReadWarningListener((src, msg) -> warnings.add(msg));
        BufferedImage img;
        try {
            img = reader.read(0, param);
        } catch (IOException | RuntimeException e) {
            String unsupported = DecodeChecks.unsupportedJpeg(bytes);
            throw new Unpreparable(unsupported != null ? unsupported : "corrupt or truncated " + fmt + ": " + e);
        }
        if (img == null) throw new Unpreparable("the " + fmt + " decoder returned no image");
        // A truncated JPEG decodes "successfully" with grey rows and a warning: that is not a usable image. Other
        // warnings (CMYK without an ICC profile, adjusted profiles, a missing end marker) leave the pixels complete.
        String damage = DecodeChecks.damage(warnings);
        if (damage != null) throw new Unpreparable("corrupt or truncated " + fmt + ": " + damage);
        return img;
    }

    /** The format a file's first bytes announce, for the formats worth a reused reader; null for the rest. */
    static String sniff(byte[] b) {
        if (b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') return "png";
        if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) return "jpeg";
        return null;
    }

    private static String hexStart(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(4, b.length); i++) sb.append(String.format("%02x", b[i] & 0xff));
        return sb.append(b.length > 4 ? "..." : "").toString();
    }
}
