package io.sparkvision.ingest;

import io.sparkvision.image.Pixels;
import io.sparkvision.io.ArchiveReader;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.util.Hashing;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Executor side of the image ingest: read, decode, resize, write PNG under {@code <split>/<class>/}. A bad image
 * never fails the task: it comes back as a skipped {@link Outcome}; only the output side (cannot write) fails it.
 */
public final class IngestTask {
    private IngestTask() {
    }

    /** @param rootPath the source root's path ({@link SourcePaths#rootPath}): written names are relative to it */
    public static List<Outcome> run(Work w, String outUri, String rootPath, IngestSettings s, Configuration conf) throws IOException {
        List<Outcome> out = new ArrayList<>();
        if (w.archive() != null) {
            archive(w.archive(), outUri, rootPath, s, conf, out);
            return out;
        }
        for (Work.Item f : w.files()) {
            if (f.split() == null) { // the listing found no class for it; the reason travels in label
                out.add(Outcome.skipped(f.uri(), f.size(), f.mtime(), null, null, null, f.label()));
                continue;
            }
            if (f.size() > s.maxBytes()) {
                out.add(Outcome.skipped(f.uri(), f.size(), f.mtime(), null, f.label(), f.split(), "file of " + f.size()
                        + " bytes is above ingest.max-file-mb; not read"));
                continue;
            }
            byte[] bytes;
            try {
                bytes = HadoopFs.readAll(new Path(f.uri()), conf);
            } catch (IOException | RuntimeException e) {
                out.add(Outcome.skipped(f.uri(), f.size(), f.mtime(), null, f.label(), f.split(),
                        "unreadable: " + e.getMessage() + "; check its permissions"));
                continue;
            }
            out.add(image(f.uri(), f.size(), f.mtime(), f.split(), f.label(), bytes, outUri, rootPath, s, conf));
        }
        return out;
    }

    static Outcome image(String source, long size, long mtime, String split, String label, byte[] bytes, String outUri,
                         String rootPath, IngestSettings s, Configuration conf) throws IOException {
        String sha = Hashing.sha256(bytes);
        Pixels p;
        try {
            p = Decoder.decode(bytes, s);
        } catch (SkippedImage e) {
            return Outcome.skipped(source, size, mtime, sha, label, split, e.getMessage());
        }
        String rel = split + "/" + label + "/" + outputName(SourcePaths.relative(source, rootPath));
        HadoopFs.write(new Path(new Path(outUri), rel), p.png(), conf);
        return new Outcome(source, size, mtime, false, sha, rel, label, split, (long) p.width() * p.height(), p.sums(), null);
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

    private static void archive(Work.Item a, String outUri, String rootPath, IngestSettings s, Configuration conf, List<Outcome> out) {
        out.add(Outcome.archiveRecord(a.uri(), a.size(), a.mtime()));
        int entries = 0;
        try (ArchiveReader in = ArchiveReader.open(a.uri(), HadoopFs.open(new Path(a.uri()), conf), s.maxBytes(), IngestTask::hidden)) {
            while (in.hasNext()) {
                ArchiveReader.Entry e = in.next();
                if (e.name().equals(ArchiveReader.REST) && !e.ok() && e.error().startsWith(ArchiveReader.DAMAGED)) {
                    // Entries before the damage are kept; the archive itself is reported so nothing goes missing silently.
                    out.add(unreadable(a, entries, e.error().substring(ArchiveReader.DAMAGED.length())));
                    return;
                }
                String name = e.name();
                String source = a.uri() + "!/" + name;
                entries++;
                if (!e.ok() && !e.tooLarge()) {
                    out.add(Outcome.skipped(source, a.size(), a.mtime(), null, null, null, e.error()));
                    continue;
                }
                List<String> parts = new ArrayList<>(Arrays.asList(name.replace('\\', '/').split("/")));
                List<String> dirs = new ArrayList<>(a.prefix());
                dirs.addAll(parts.subList(0, parts.size() - 1));
                String archivePath = String.join("/", a.prefix()) + (a.prefix().isEmpty() ? "" : "/")
                        + a.uri().substring(a.uri().lastIndexOf('/') + 1);
                String[] sc = Layout.splitAndClass(dirs, archivePath + "!/" + String.join("/", parts), s);
                if (sc[0] == null) {
                    out.add(Outcome.skipped(source, a.size(), a.mtime(), null, null, null, sc[1]));
                    continue;
                }
                if (e.tooLarge()) {
                    out.add(Outcome.skipped(source, a.size(), a.mtime(), null, sc[1], sc[0], e.error()
                            + " (ingest.max-file-mb)"));
                    continue;
                }
                out.add(image(source, a.size(), a.mtime(), sc[0], sc[1], e.bytes(), outUri, rootPath, s, conf));
            }
        } catch (IOException | RuntimeException ex) {
            out.add(unreadable(a, entries, ex.getMessage()));
        }
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
