package io.sparkvision.data;

import java.io.Serializable;

/**
 * One stored image of a split as the dataset holds it (the encoded file's bytes today), with its class id and the
 * path it is known by in the dataset (for error messages and reports). Decoding happens downstream.
 */
public record StoredImage(String path, int label, byte[] bytes) implements Serializable {
}
