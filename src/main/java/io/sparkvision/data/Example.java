package io.sparkvision.data;

import java.io.Serializable;

/** One decoded, normalised image (channels x height x width, row-major) and its class id. */
public record Example(float[] pixels, int label) implements Serializable {
}
