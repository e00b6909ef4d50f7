package io.sparkvision.ingest;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Header of an IDX file (the format MNIST ships in): magic number, item count and, for images, rows x cols. */
public record IdxFile(String path, int count, int rows, int cols) {
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

    public int headerBytes() {
        return rows == 0 ? 8 : 16;
    }

    public int itemBytes() {
        return rows == 0 ? 1 : rows * cols;
    }

    public static IdxFile readImagesHeader(String path, InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int magic = d.readInt();
        if (magic != IMAGES_MAGIC) {
            throw new IOException(path + " is not an IDX image file (magic 0x" + Integer.toHexString(magic)
                    + ", expected 0x803)" + gzipHint(magic));
        }
        int n = d.readInt(), rows = d.readInt(), cols = d.readInt();
        if (n < 0 || rows <= 0 || cols <= 0 || rows > 4096 || cols > 4096) {
            throw new IOException(path + ": implausible IDX header " + n + " x " + rows + " x " + cols);
        }
        return new IdxFile(path, n, rows, cols);
    }

    public static IdxFile readLabelsHeader(String path, InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int magic = d.readInt();
        if (magic != LABELS_MAGIC) {
            throw new IOException(path + " is not an IDX label file (magic 0x" + Integer.toHexString(magic)
                    + ", expected 0x801)" + gzipHint(magic));
        }
        int n = d.readInt();
        if (n < 0) throw new IOException(path + ": negative item count " + n);
        return new IdxFile(path, n, 0, 0);
    }

    /** A gzipped file without its .gz name starts with 1f 8b. */
    private static String gzipHint(int magic) {
        return (magic >>> 16) == 0x1f8b ? "; it is gzipped: add .gz to its name (gzipped files are read as they are) or unpack it"
                : "; fetch it again";
    }
}
