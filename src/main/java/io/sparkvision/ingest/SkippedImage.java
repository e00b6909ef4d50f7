package io.sparkvision.ingest;

/**
 * An input that is not ingested but counted and listed in ingest-report.json: thrown by the decoder for one
 * image, never for a whole task. The message says what is wrong with the file and what to do about it.
 */
public final class SkippedImage extends Exception {
    public SkippedImage(String reason) {
        super(reason, null, false, false);
    }
}
