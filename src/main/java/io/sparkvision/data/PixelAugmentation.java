package io.sparkvision.data;

import io.sparkvision.image.InputShape;

import java.io.Serializable;
import java.util.Random;

/**
 * What training does to each example's pixels before normalisation, once per epoch, on the executors. The
 * augment package supplies it ({@code augment.AugmentSettings}); this package only calls it, so reading a dataset
 * does not depend on how it is augmented.
 */
public interface PixelAugmentation extends Serializable {
    /** No augmentation: examples are normalised as they are decoded. */
    PixelAugmentation NONE = Off.INSTANCE;

    /** False when {@link #apply} would leave every image as it is. */
    boolean enabled();

    /** An augmented copy of un-normalised pixels in [0, 1] (channels x height x width), drawing randomness from rnd. */
    float[] apply(float[] pixels, InputShape shape, Random rnd);

    /** An enum, so the one instance stays one instance when Spark serialises it to executors. */
    enum Off implements PixelAugmentation {
        INSTANCE;

        @Override
        public boolean enabled() {
            return false;
        }

        @Override
        public float[] apply(float[] pixels, InputShape shape, Random rnd) {
            return pixels;
        }
    }
}
