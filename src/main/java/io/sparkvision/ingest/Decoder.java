package io.sparkvision.ingest;

import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.Pixels;

/** Ingest's use of the image-preparation contract: an image that cannot be prepared is a {@link SkippedImage}. */
public final class Decoder {
    private Decoder() {
    }

    public static Pixels decode(byte[] bytes, IngestSettings s) throws SkippedImage {
        try {
            return ImagePreparer.pixels(bytes, s.preparation(), s.maxPixels(), "ingest.max-image-pixels");
        } catch (ImagePreparer.Unpreparable e) {
            throw new SkippedImage(e.getMessage());
        }
    }
}
