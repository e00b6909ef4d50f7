package io.sparkvision.ingest;

import io.sparkvision.image.Pixels;
import io.sparkvision.io.ArchiveReader;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.util.Hashing;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Executor side of the image ingest: read, decode, prepare, and either write a PNG under {@code <split>/<class>/}
 * (the png-files layout) or hand the prepared image on as a shard row (the parquet layout). A bad image never fails
 * the task: it comes back as a skipped {@link Outcome}; only the output side (cannot write) fails it. Items are
 * processed one at a time as the caller pulls them, so a task never holds more than one prepared image.
 */
public final class IngestTask {
    private IngestTask() {
    }

    /**
     * One source item's outcome and, for the parquet layout, its prepared image: raw uint8 channel-major
     * ({@code channels x height x width}) or PNG bytes (then the geometry is 0); null when skipped or written as a file.
     */
    public record Stored(Outcome outcome, byte[] image, int channels, int height, int width) implements Serializable {
    }

    /** png-files layout: the work's images written under {@code outUri}; each source file's outcome returned. */
    public static List<Outcome> run(Work w, String outUri, String rootPath, IngestSettings s, Configuration conf) throws IOException {
        List<Outcome> out = new ArrayList<>();
        Iterator<Work.Item> items = w.archive() != null ? List.of(w.archive()).iterator() : w.files().iterator();
        try {
            stored(items, outUri, rootPath, s, null, conf).forEachRemaining(x -> out.add(x.outcome()));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return out;
    }

    /**
     * The outcomes of {@code items} (an archive item: its own record, then one per entry), computed lazily.
     *
     * @param outUri   png-files layout: the dataset root the PNGs are written under; null for shard rows
     * @param encoding for shard rows: {@link DatasetStorage#RAW} or {@link DatasetStorage#PNG}
     * @param rootPath the source root's path ({@link SourcePaths#rootPath}): written names are relative to it
     */
    public static Iterator<Stored> stored(Iterator<Work.Item> items, String outUri, String rootPath, IngestSettings s,
                                          String encoding, Configuration conf) {
        return new StoredIterator(items, outUri, rootPath, s, encoding, conf);
    }

    private static final class StoredIterator implements Iterator<Stored> {
        private final Iterator<Work.Item> items;
        private final String outUri, rootPath, encoding;
        private final IngestSettings s;
        private final Configuration conf;
        private final Deque<Stored> pending = new ArrayDeque<>();
        private ArchiveReader archive;
        private Work.Item archiveItem;
        private int entries;

        StoredIterator(Iterator<Work.Item> items, String outUri, String rootPath, IngestSettings s, String encoding,
                       Configuration conf) {
            this.items = items;
            this.outUri = outUri;
            this.rootPath = rootPath;
            this.s = s;
            this.encoding = encoding;
            this.conf = conf;
        }

        @Override
        public boolean hasNext() {
            try {
                while (pending.isEmpty()) {
                    if (archive != null) {
                        nextEntry();
                    } else if (items.hasNext()) {
                        item(items.next());
                    } else {
                        return false;
                    }
                }
                return true;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public Stored next() {
            if (!hasNext()) throw new NoSuchElementException();
            return pending.poll();
        }

        private void item(Work.Item f) throws IOException {
            if (f.prefix() != null) {
                pending.add(new Stored(Outcome.archiveRecord(f.uri(), f.size(), f.mtime()), null, 0, 0, 0));
                entries = 0;
                try {
                    archive = ArchiveReader.open(f.uri(), HadoopFs.open(new Path(f.uri()), conf), s.maxBytes(), IngestTask::hidden);
                    archiveItem = f;
                } catch (IOException | RuntimeException ex) {
                    pending.add(skip(unreadable(f, 0, ex.getMessage())));
                }
                return;
            }
            if (f.split() == null) { // the listing found no class for it; the reason travels in label
                pending.add(skip(Outcome.skipped(f.uri(), f.size(), f.mtime(), null, null, null, f.label())));
                return;
            }
            if (f.size() > s.maxBytes()) {
                pending.add(skip(Outcome.skipped(f.uri(), f.size(), f.mtime(), null, f.label(), f.split(), "file of " + f.size()
                        + " bytes is above ingest.max-file-mb; not read")));
                return;
            }
            byte[] bytes;
            try {
                bytes = HadoopFs.readAll(new Path(f.uri()), conf);
            } catch (IOException | RuntimeException e) {
                pending.add(skip(Outcome.skipped(f.uri(), f.size(), f.mtime(), null, f.label(), f.split(),
                        "unreadable: " + e.getMessage() + "; check its permissions")));
                return;
            }
            pending.add(image(f.uri(), f.size(), f.mtime(), f.split(), f.label(), bytes));
        }

        private void nextEntry() throws IOException {
            Work.Item a = archiveItem;
            try {
                if (!archive.hasNext()) {
                    closeArchive();
                    return;
                }
                ArchiveReader.Entry e = archive.next();
                if (e.name().equals(ArchiveReader.REST) && !e.ok() && e.error().startsWith(ArchiveReader.DAMAGED)) {
                    // Entries before the damage are kept; the archive itself is reported so nothing goes missing silently.
                    closeArchive();
                    pending.add(skip(unreadable(a, entries, e.error().substring(ArchiveReader.DAMAGED.length()))));
                    return;
                }
                String name = e.name();
                String source = a.uri() + "!/" + name;
                entries++;
                if (!e.ok() && !e.tooLarge()) {
                    pending.add(skip(Outcome.skipped(source, a.size(), a.mtime(), null, null, null, e.error())));
                    return;
                }
                List<String> parts = new ArrayList<>(Arrays.asList(name.replace('\\', '/').split("/")));
                List<String> dirs = new ArrayList<>(a.prefix());
                dirs.addAll(parts.subList(0, parts.size() - 1));
                String archivePath = String.join("/", a.prefix()) + (a.prefix().isEmpty() ? "" : "/")
                        + a.uri().substring(a.uri().lastIndexOf('/') + 1);
                String[] sc = Layout.splitAndClass(dirs, archivePath + "!/" + String.join("/", parts), s);
                if (sc[0] == null) {
                    pending.add(skip(Outcome.skipped(source, a.size(), a.mtime(), null, null, null, sc[1])));
                    return;
                }
                if (e.tooLarge()) {
                    pending.add(skip(Outcome.skipped(source, a.size(), a.mtime(), null, sc[1], sc[0], e.error()
                            + " (ingest.max-file-mb)")));
                    return;
                }
                pending.add(image(source, a.size(), a.mtime(), sc[0], sc[1], e.bytes()));
            } catch (IOException | RuntimeException ex) {
                if (outUri != null && ex instanceof IOException io && io.getMessage() != null && io.getMessage().startsWith(WRITE)) {
                    throw io; // the output side failing fails the task
                }
                closeArchive();
                pending.add(skip(unreadable(a, entries, ex.getMessage())));
            }
        }

        private void closeArchive() {
            try {
                archive.close();
            } catch (IOException | RuntimeException ignored) {
                // already at its end or failing
            }
            archive = null;
            archiveItem = null;
        }

        private Stored image(String source, long size, long mtime, String split, String label, byte[] bytes) throws IOException {
            String sha = Hashing.sha256(bytes);
            Pixels p;
            try {
                p = Decoder.decode(bytes, s);
            } catch (SkippedImage e) {
                return skip(Outcome.skipped(source, size, mtime, sha, label, split, e.getMessage()));
            }
            String name = outputName(SourcePaths.relative(source, rootPath));
            boolean raw = outUri == null && DatasetStorage.RAW.equals(encoding);
            if (raw) name = name.substring(0, name.length() - ".png".length());
            String rel = split + "/" + label + "/" + name;
            Outcome o = new Outcome(source, size, mtime, false, sha, rel, label, split, (long) p.width() * p.height(), p.sums(), null);
            if (outUri != null) {
                try {
                    HadoopFs.write(new Path(new Path(outUri), rel), p.png(), conf);
                } catch (IOException e) {
                    throw new IOException(WRITE + rel + ": " + e.getMessage(), e);
                }
                return skip(o);
            }
            return raw ? new Stored(o, channelMajor(p), p.channels(), p.height(), p.width()) : new Stored(o, p.png(), 0, 0, 0);
        }
    }

    private static final String WRITE = "cannot write ";

    private static Stored skip(Outcome o) {
        return new Stored(o, null, 0, 0, 0);
    }

    /** Interleaved (height x width x channels) to channel-major (channels x height x width) uint8, StoredImage's order. */
    static byte[] channelMajor(Pixels p) {
        int c = p.channels(), hw = p.width() * p.height();
        byte[] in = p.data();
        if (c == 1) return in.clone();
        byte[] out = new byte[in.length];
        for (int i = 0; i < hw; i++) {
            for (int ch = 0; ch < c; ch++) out[ch * hw + i] = in[i * c + ch];
        }
        return out;
    }

    /**
     * The source's file name, made safe, plus a hash of its path relative to the source root: two dated folders may
     * both hold "0001.jpg", and the same tree on another store must get the same names.
     */
    static String outputName(String relativeSource) {
        String name = relativeSource.substring(relativeSource.lastIndexOf('/') + 1);
        int dot = name.lastIndexOf('.');
        String stem = (dot > 0 ? name.substring(0, dot) : name).replaceAll("[^A-Za-z0-9._-]", "_");
        if (stem.length() > 80) stem = stem.substring(0, 80);
        String h = HexFormat.of().formatHex(Hashing.sha256().digest(relativeSource.getBytes(StandardCharsets.UTF_8))).substring(0, 10);
        return stem + "-" + h + ".png";
    }

    /** Hidden files and folder entries (macOS "._x", "_MACOSX"-style markers) are passed over, as in a folder. */
    private static boolean hidden(String name) {
        String file = name.replace('\\', '/');
        file = file.substring(file.lastIndexOf('/') + 1);
        return file.startsWith(".") || file.startsWith("_") || name.endsWith("/");
    }

    private static Outcome unreadable(Work.Item a, int entries, String why) {
        return Outcome.skipped(a.uri(), a.size(), a.mtime(), null, null, null, "archive unreadable after "
                + entries + " entries: " + why + "; re-create or re-copy it");
    }
}
