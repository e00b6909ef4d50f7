package io.sparkvision.score;

import org.apache.commons.compress.archivers.ArchiveEntry;
import org.apache.commons.compress.archivers.ArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Locale;
import java.util.NoSuchElementException;

/**
 * Streams the entries of one archive (.zip, .tar, .tar.gz/.tgz) one at a time, so memory does not grow with the
 * archive. Entry names are only reported, never used as paths: nothing is extracted anywhere.
 */
public final class ImageEntries implements Iterator<ImageEntries.Entry>, AutoCloseable {
    /** One file inside an archive: its name, bytes, or why it cannot be read. */
    public record Entry(String name, byte[] bytes, String error) {
    }

    /** Files larger than this are reported, not read: no image a CNN scores needs 64 MB. */
    static final long MAX_ENTRY_BYTES = 64L << 20;

    private final ArchiveInputStream in;
    private Entry next;

    private ImageEntries(ArchiveInputStream in) {
        this.in = in;
    }

    public static boolean isArchive(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".zip") || n.endsWith(".tar") || n.endsWith(".tar.gz") || n.endsWith(".tgz");
    }

    public static ImageEntries open(String name, InputStream raw) throws IOException {
        String n = name.toLowerCase(Locale.ROOT);
        InputStream buffered = new BufferedInputStream(raw, 1 << 16);
        if (n.endsWith(".zip")) return new ImageEntries(new ZipArchiveInputStream(buffered));
        if (n.endsWith(".tar")) return new ImageEntries(new TarArchiveInputStream(buffered));
        if (n.endsWith(".tar.gz") || n.endsWith(".tgz")) return new ImageEntries(new TarArchiveInputStream(new GzipCompressorInputStream(buffered)));
        throw new IllegalArgumentException(name + " is not a .zip, .tar, .tar.gz or .tgz archive");
    }

    /** Names that would escape a directory if someone extracted them: reported as errors, never scored. */
    static boolean unsafe(String name) {
        String n = name.replace('\\', '/');
        return n.startsWith("/") || n.matches("^[A-Za-z]:.*") || n.equals("..") || n.startsWith("../") || n.contains("/../") || n.endsWith("/..");
    }

    @Override
    public boolean hasNext() {
        if (next != null) return true;
        try {
            for (ArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                if (e.isDirectory()) continue;
                String name = e.getName();
                if (unsafe(name)) {
                    next = new Entry(name, null, "unsafe entry name (absolute or containing ..); not scored");
                } else {
                    // Sizes in zip streams may be unknown (-1): read at most the limit plus one byte.
                    byte[] bytes = in.readNBytes((int) MAX_ENTRY_BYTES + 1);
                    next = bytes.length > MAX_ENTRY_BYTES
                            ? new Entry(name, null, "entry larger than " + MAX_ENTRY_BYTES + " bytes; not scored")
                            : new Entry(name, bytes, null);
                }
                return true;
            }
            return false;
        } catch (IOException e) {
            // A truncated or corrupt archive: everything read so far stands; the rest becomes one error row.
            next = new Entry("(rest of archive)", null, "archive unreadable after this point: " + e.getMessage());
            closeQuietly();
            return true;
        }
    }

    @Override
    public Entry next() {
        if (!hasNext()) throw new NoSuchElementException();
        Entry e = next;
        next = null;
        return e;
    }

    private void closeQuietly() {
        try {
            in.close();
        } catch (IOException ignored) {
            // already failing
        }
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
