package io.sparkvision.data;

import java.io.Serializable;

/**
 * One image as the training cache holds it: decoded 8-bit pixels, channel-major (channels x height x width), at the
 * size it was stored, with its class id. Never floats: a 256x256 RGB image is 196,608 bytes here against 786,432 as
 * float32, and crops, augmentation and normalisation happen per minibatch ({@link ImageDataset}). No path: the
 * cache is read every epoch, decode errors were reported (with the path) when it was filled.
 */
public record CachedImage(byte[] pixels, short channels, short height, short width, int label) implements Serializable {
    public CachedImage {
        if ((long) channels * height * width != pixels.length) {
            throw new IllegalArgumentException(pixels.length + " bytes for " + channels + "x" + height + "x" + width);
        }
    }

    public CachedImage(byte[] pixels, int channels, int height, int width, int label) {
        this(pixels, (short) channels, (short) height, (short) width, label);
    }
}
