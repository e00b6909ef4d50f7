package io.sparkvision.data;

import java.io.Serializable;

/**
 * One stored image of a split as the dataset holds it, with its class id and the path it is known by in the dataset
 * (for error messages and reports). Decoding happens downstream.
 *
 * @param bytes    either an encoded image file (PNG, JPEG; then channels, height and width are 0: known only once
 *                 decoded) or raw uint8 pixels in channel-major order (channels x height x width, each row of each
 *                 channel contiguous), when channels, height and width are all positive
 */
public record StoredImage(String path, int label, byte[] bytes, int channels, int height, int width) implements Serializable {

    /** An encoded image file's bytes. */
    public static StoredImage encoded(String path, int label, byte[] bytes) {
        return new StoredImage(path, label, bytes, 0, 0, 0);
    }

    /** Raw uint8 pixels, channel-major. */
    public static StoredImage raw(String path, int label, byte[] pixels, int channels, int height, int width) {
        if ((long) channels * height * width != pixels.length) {
            throw new IllegalArgumentException(path + ": " + pixels.length + " bytes for " + channels + "x" + height + "x" + width);
        }
        return new StoredImage(path, label, pixels, channels, height, width);
    }

    public boolean isRaw() {
        return height > 0;
    }
}
