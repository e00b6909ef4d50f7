package io.sparkvision.io;

import org.apache.commons.compress.archivers.ArchiveEntry;
import org.apache.commons.compress.archivers.ArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.function.Predicate;

/**
 * The one reader of image archives (.zip, .tar, .tar.gz/.tgz), for ingest and score alike: streams the file entries
 * one at a time, so memory does not grow with the archive. Entry names are only reported, never used as paths by
 * this class; a name that would escape a folder if extracted is reported as an error and its bytes are not read.
 * Each entry is read up to the caller's limit (its own option); a larger one becomes an error. A damaged archive
 * ends with one error entry named {@value #REST}: everything before it stands.
 */
public final class ArchiveReader implements Iterator<ArchiveReader.Entry>, AutoCloseable {
    /** The name of the error entry that ends a damaged archive. */
    public static final String REST = "(rest of archive)";
    /** How the error of the {@value #REST} entry begins; the exception's message follows. */
    public static final String DAMAGED = "archive unreadable after this point: ";
    public static final String UNSAFE = "unsafe archive entry name (absolute or with ../): not extracted; rebuild the "
            + "archive with relative <class>/<file> entries";

    /**
     * One file inside an archive: its name as stored, its bytes, or why they were not read.
     *
     * @param tooLarge true when the error is that the entry is above the caller's limit
     */
    public record Entry(String name, byte[] bytes, String error, boolean tooLarge) {
        public boolean ok() {
            return error == null;
        }
    }

    private final ArchiveInputStream in;
    private final long maxEntryBytes;
    private final Predicate<String> skip;
    private Entry next;
    private boolean ended;

    private ArchiveReader(ArchiveInputStream in, long maxEntryBytes, Predicate<String> skip) {
        this.in = in;
        this.maxEntryBytes = maxEntryBytes;
        this.skip = skip;
    }

    public static boolean isArchive(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".zip") || n.endsWith(".tar") || n.endsWith(".tar.gz") || n.endsWith(".tgz");
    }

    /**
     * @param name          the archive's file name or URI: its extension picks the format
     * @param maxEntryBytes entries above this are reported, not kept (the caller's option)
     * @param skip          entry names passed over silently, unread (e.g. hidden files)
     */
    public static ArchiveReader open(String name, InputStream raw, long maxEntryBytes, Predicate<String> skip) throws IOException {
        String n = name.toLowerCase(Locale.ROOT);
        InputStream buffered = new BufferedInputStream(raw, 1 << 16);
        ArchiveInputStream in;
        if (n.endsWith(".zip")) in = new ZipArchiveInputStream(buffered);
        else if (n.endsWith(".tar")) in = new TarArchiveInputStream(buffered);
        else if (n.endsWith(".tar.gz") || n.endsWith(".tgz")) in = new TarArchiveInputStream(new GzipCompressorInputStream(buffered));
        else throw new IllegalArgumentException(name + " is not a .zip, .tar, .tar.gz or .tgz archive");
        return new ArchiveReader(in, maxEntryBytes, skip);
    }

    /** Names that would escape a folder if someone extracted them: absolute, a drive letter, or a ".." part. */
    public static boolean unsafe(String name) {
        String n = name.replace('\\', '/');
        return n.startsWith("/") || n.matches("^[A-Za-z]:.*") || n.equals("..") || n.startsWith("../")
                || n.contains("/../") || n.endsWith("/..");
    }

    @Override
    public boolean hasNext() {
        if (next != null) return true;
        if (ended) return false;
        try {
            for (ArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                String name = e.getName();
                if (e.isDirectory() || skip.test(name)) continue;
                if (unsafe(name)) {
                    next = new Entry(name, null, UNSAFE, false);
                } else if (e.getSize() > maxEntryBytes) { // declared sizes (tar; zip when known) spare the read
                    next = tooLarge(name, e.getSize());
                } else {
                    // Sizes in zip streams may be unknown (-1): read at most the limit plus one byte.
                    byte[] bytes = in.readNBytes((int) Math.min(maxEntryBytes + 1, Integer.MAX_VALUE - 16));
                    next = bytes.length > maxEntryBytes ? tooLarge(name, -1) : new Entry(name, bytes, null, false);
                }
                return true;
            }
            ended = true;
            return false;
        } catch (IOException | RuntimeException e) {
            // A truncated or corrupt archive: everything read so far stands; the rest becomes one error entry.
            next = new Entry(REST, null, DAMAGED + e.getMessage(), false);
            ended = true;
            closeQuietly();
            return true;
        }
    }

    private Entry tooLarge(String name, long size) {
        return new Entry(name, null, "entry " + (size >= 0 ? "of " + size + " bytes " : "") + "larger than "
                + maxEntryBytes + " bytes; not read", true);
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
    public void close() throws IOException {
        in.close();
    }
}
