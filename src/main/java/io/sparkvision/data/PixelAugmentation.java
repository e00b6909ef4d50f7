package io.sparkvision.data;

import io.sparkvision.image.Crops;
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

    /**
     * One training example from a cached image: a crop of the model's input size {@code out} from the stored
     * c x sh x sw uint8 pixels, augmented, as floats in [0, 1] (not yet normalised). Here a uniformly placed crop
     * (AlexNet's recipe; nothing is drawn when the stored image is the input's size); augment.* settings may take a
     * random-resized crop instead (ResNet's).
     */
    default float[] train(byte[] pixels, int sh, int sw, InputShape out, Random rnd) {
        float[] x = Crops.random(pixels, out.channels(), sh, sw, out.height(), out.width(), rnd);
        return enabled() ? apply(x, out, rnd) : x;
    }

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
