package io.sparkvision.io;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * Reads and writes any Hadoop URI (file://, hdfs://, s3a://). Plain paths mean local files. Writes that
 * must never be seen half-done go through {@link #writeAtomically}.
 */
public final class HadoopFs {
    private HadoopFs() {
    }

    /** A plain local path becomes an absolute file:// URI; URIs with a scheme pass unchanged. */
    public static Path path(String uriOrPath) {
        URI uri = URI.create(uriOrPath.replace(" ", "%20"));
        if (uri.getScheme() == null) return new Path(new File(uriOrPath).getAbsoluteFile().toURI());
        return new Path(uriOrPath);
    }

    public static Path child(Path parent, String relative) {
        return new Path(parent, relative);
    }

    /**
     * The file system of {@code p}. Local files skip Hadoop's .crc side files: the product writes tens of
     * thousands of small images and checksums its own artefacts.
     */
    public static FileSystem fs(Path p, Configuration conf) {
        try {
            FileSystem fs = p.getFileSystem(conf);
            if (fs instanceof LocalFileSystem) return ((LocalFileSystem) fs).getRaw();
            return fs;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open file system for " + p + ": " + e.getMessage(), e);
        }
    }

    public static boolean exists(Path p, Configuration conf) {
        try {
            return fs(p, conf).exists(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static byte[] readAll(Path p, Configuration conf) throws IOException {
        try (FSDataInputStream in = fs(p, conf).open(p)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        }
    }

    public static String readString(Path p, Configuration conf) throws IOException {
        return new String(readAll(p, conf), StandardCharsets.UTF_8);
    }

    public static InputStream open(Path p, Configuration conf) throws IOException {
        return fs(p, conf).open(p);
    }

    /** Writes a small file in place (for files nobody reads while they are written, such as images of an ingest). */
    public static void write(Path p, byte[] bytes, Configuration conf) throws IOException {
        try (OutputStream out = create(p, conf)) {
            out.write(bytes);
        }
    }

    /**
     * Creates (or overwrites) a file. Local files are written with java.nio: Hadoop's local file system forks a
     * {@code chmod} process per created file when the native Hadoop library is absent, which made writing
     * 70,000 small images take 10 minutes instead of seconds.
     */
    public static OutputStream create(Path p, Configuration conf) throws IOException {
        if ("file".equals(p.toUri().getScheme())) {
            java.nio.file.Path local = java.nio.file.Paths.get(p.toUri());
            java.nio.file.Files.createDirectories(local.getParent());
            return java.nio.file.Files.newOutputStream(local);
        }
        return fs(p, conf).create(p, true);
    }

    /** Content produced into an output stream. */
    public interface Writer {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code target} so that a reader sees either the old file or the complete new one: the bytes go to a
     * hidden temporary sibling, which is then renamed over the target (atomic on local file systems and HDFS).
     */
    public static void writeAtomically(Path target, Configuration conf, Writer writer) throws IOException {
        FileSystem fs = fs(target, conf);
        if (isObjectStore(target)) {
            // An object store makes an object visible in one step when its upload completes, and its "rename" is a
            // copy after a delete, a moment with no object at all: writing in place is the atomic way there.
            FSDataOutputStream out = fs.create(target, true);
            try {
                writer.writeTo(out);
            } catch (IOException | RuntimeException e) {
                // Closing would upload the partial bytes: abort the upload, the old object stays.
                out.abort();
                throw e;
            }
            out.close();
            return;
        }
        Path tmp = new Path(target.getParent(), "._tmp." + target.getName() + "." + System.nanoTime());
        try {
            try (OutputStream out = create(tmp, conf)) {
                writer.writeTo(out);
                out.flush();
                if (out instanceof FSDataOutputStream) ((FSDataOutputStream) out).hsync();
            }
            renameOver(tmp, target, conf);
        } catch (IOException | RuntimeException e) {
            fs.delete(tmp, false);
            throw e;
        }
    }

    /** S3 and its kin: no directories, no atomic rename; a completed upload is atomic. */
    public static boolean isObjectStore(Path p) {
        String scheme = p.toUri().getScheme();
        return scheme != null && java.util.Set.of("s3a", "s3", "s3n", "gs", "oss", "cosn", "obs").contains(scheme);
    }

    public static void writeStringAtomically(Path target, String text, Configuration conf) throws IOException {
        writeAtomically(target, conf, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    private static void renameOver(Path src, Path dst, Configuration conf) throws IOException {
        FileSystem fs = fs(dst, conf);
        String scheme = fs.getUri().getScheme();
        if ("file".equals(scheme) || "hdfs".equals(scheme)) {
            // FileContext offers rename-with-overwrite, which is one atomic step on both.
            FileContext fc = FileContext.getFileContext(fs.getUri(), conf);
            fc.rename(src, dst, Options.Rename.OVERWRITE);
        } else {
            // Other file systems without an atomic overwrite: the caller commits with a marker written last
            // (train.CheckpointStore commits a checkpoint by writing its model.json after the zip).
            fs.delete(dst, false);
            if (!fs.rename(src, dst)) throw new IOException("could not rename " + src + " to " + dst);
        }
    }
}
