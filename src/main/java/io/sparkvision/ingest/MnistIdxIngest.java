package io.sparkvision.ingest;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.SerializableHadoopConf;
import io.sparkvision.util.Hashing;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Turns MNIST's IDX files (also Fashion-MNIST's, or any IDX set named like them; plain or gzipped, as they are
 * distributed) into a dataset with a {@code dataset.json}: by default (ingest.layout = parquet) each split as Parquet
 * shards of the IDX bytes ({@link IdxShards}); with ingest.layout = png-files the earlier layout,
 * {@code <split>/<label>/<index>.png} and a {@code manifest.csv}. Either way executors read their slice of the image
 * files and write their part themselves, so this works the same from and to file://, hdfs:// and s3a://. IDX has no
 * class names: they come from {@code ingest.class-names} (else the label numbers) and go into the label column and
 * the class index; paths keep the label number, so a name such as "T-shirt/top" needs no escaping. A re-run on the
 * same IDX content (its hash in dataset.json) does nothing.
 */
public final class MnistIdxIngest {
    /** The four files of the MNIST distribution, by split; each may also be gzipped ({@code <name>.gz}). */
    static final Map<String, String[]> FILES = new LinkedHashMap<>();

    static {
        FILES.put("train", new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"});
        FILES.put("test", new String[] {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"});
    }

    static final String GZ = ".gz";

    private MnistIdxIngest() {
    }

    /** What an ingest did. */
    public record Result(DatasetDescriptor descriptor, boolean skippedUnchanged, long written, double seconds) {
    }

    /** One task's work: a contiguous range of one split, with its labels (read on the driver) and the class index. */
    record Slice(String split, String images, int headerImages, int start, int count, int rows, int cols, byte[] labels,
                 List<String> classes) implements Serializable {
    }

    /** One task's output: manifest rows and the statistics the descriptor needs. */
    record SliceResult(String split, List<String> rows, long[] classCounts, double pixelSum, double pixelSumSq, long pixels)
            implements Serializable {
    }

    /** Into the default storage, Parquet shards of raw images, with the label numbers as class names. */
    public static Result run(JavaSparkContext sc, String source, String output, int partitions, PrintStream log) throws IOException {
        return run(sc, source, output, partitions, ImageIngest.Storage.DEFAULT, List.of(), log);
    }

    /** The validated source: every file's header, the labels (read on the driver), the content hash, the class index. */
    record Source(Map<String, Path> files, Map<String, IdxFile[]> headers, Map<String, byte[]> labels, String contentHash,
                  List<String> classes) {
        long images() {
            return headers.values().stream().mapToLong(h -> h[0].count()).sum();
        }
    }

    /** Into the default storage, Parquet shards of raw images. */
    public static Result run(JavaSparkContext sc, String source, String output, int partitions, List<String> classNames,
                             PrintStream log) throws IOException {
        return run(sc, source, output, partitions, ImageIngest.Storage.DEFAULT, classNames, log);
    }

    /**
     * @param storage    ingest.layout (with ingest.encoding and ingest.shard-mb): Parquet shards or png-files
     * @param classNames ingest.class-names: one per label value, in label order; empty = the label numbers
     */
    public static Result run(JavaSparkContext sc, String source, String output, int partitions, ImageIngest.Storage storage,
                             List<String> classNames, PrintStream log) throws IOException {
        long t0 = System.nanoTime();
        Configuration conf = sc.hadoopConfiguration();
        Source src = readSource(HadoopFs.path(source), classNames, conf);
        Path out = HadoopFs.path(output);
        DatasetDescriptor existing = existingDataset(out, output, src, conf);
        boolean shards = DatasetStorage.PARQUET.equals(storage.layout());
        if (existing != null) {
            // The content decides, not the layout: both layouts are read by every job, so a dataset already there
            // (e.g. a png-files one from before Parquet was the default) is kept as it is rather than rewritten.
            String held = existing.sharded() ? "Parquet shards" : "png-files";
            String convert = existing.sharded() == shards ? "" : "; it is stored as " + held + ", not " + storage.layout()
                    + (existing.sharded() ? "" : " (scripts/sparkvision convert-dataset --data " + output
                    + " --to <new root> converts it)");
            log.printf("ingest: %s already holds this source (%s); nothing to do%s%n", output,
                    src.contentHash().substring(0, 19), convert);
            return new Result(existing, true, 0, (System.nanoTime() - t0) / 1e9);
        }
        DatasetDescriptor d;
        if (shards) {
            d = IdxShards.write(sc, source, src, out, storage.encoding(), storage.shardMb(), partitions, log);
        } else {
            List<Slice> slices = slices(src, partitions > 0 ? partitions : sc.defaultParallelism() * 4);
            log.printf("ingest: %,d images of %d classes from %s -> %s in %d tasks%n", src.images(), src.classes().size(),
                    source, output, slices.size());
            List<SliceResult> written = writeImages(sc, slices, out);
            d = writeDataset(out, source, src, written, conf);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        log.printf("ingest: wrote %,d images in %.1f s (%,.0f images/s)%n", src.images(), secs, src.images() / secs);
        return new Result(d, false, src.images(), secs);
    }

    /**
     * Validates every input file before any Spark work: one pass over each (decompressed) file checks its length
     * against its header and feeds the content hash, which is therefore the same for plain and gzipped files.
     */
    static Source readSource(Path src, List<String> classNames, Configuration conf) throws IOException {
        Map<String, Path> found = locate(src, conf);
        Map<String, IdxFile[]> headers = new LinkedHashMap<>();
        Map<String, byte[]> labels = new LinkedHashMap<>();
        MessageDigest md = Hashing.sha256();
        for (Map.Entry<String, String[]> e : FILES.entrySet()) {
            Path img = found.get(e.getValue()[0]);
            Path lab = found.get(e.getValue()[1]);
            IdxFile ih = scan(img, conf, md, true, null);
            ByteArrayOutputStream labelFile = new ByteArrayOutputStream();
            IdxFile lh = scan(lab, conf, md, false, labelFile);
            if (ih.count() != lh.count()) {
                throw new IllegalArgumentException(img + " holds " + ih.count() + " images but " + lab + " holds "
                        + lh.count() + " labels; the two files must come from the same release");
            }
            headers.put(e.getKey(), new IdxFile[] {ih, lh});
            byte[] lb = labelFile.toByteArray();
            labels.put(e.getKey(), Arrays.copyOfRange(lb, lh.headerBytes(), lb.length));
        }
        return new Source(found, headers, labels, Hashing.hex(md), classes(labels, found, classNames));
    }

    /** The dataset already at {@code out} if it holds exactly this source; null if there is none; else an error. */
    static DatasetDescriptor existingDataset(Path out, String output, Source src, Configuration conf) throws IOException {
        Path descriptorPath = new Path(out, DatasetDescriptor.FILE_NAME);
        if (!HadoopFs.exists(descriptorPath, conf)) return null;
        DatasetDescriptor existing = Json.read(HadoopFs.readString(descriptorPath, conf), DatasetDescriptor.class);
        if (src.contentHash().equals(existing.contentHash()) && src.classes().equals(existing.classes())) return existing;
        if (src.contentHash().equals(existing.contentHash())) {
            throw new IllegalArgumentException(output + " already holds this source with classes " + existing.classes()
                    + ", but ingest.class-names gives " + src.classes() + "; models trained on it keep the old names: "
                    + "choose another data.root for the new names, or delete it");
        }
        throw new IllegalArgumentException(output + " already holds a different dataset (" + existing.source()
                + "); choose another data.root or delete it");
    }

    /** Contiguous ranges of each split, about {@code nSlices} in all, in proportion to the splits' sizes. */
    static List<Slice> slices(Source src, int nSlices) {
        return slices(src, nSlices, Integer.MAX_VALUE);
    }

    /** As {@link #slices(Source, int)}, with at most {@code maxImages} images in a slice (more slices where needed). */
    static List<Slice> slices(Source src, int nSlices, int maxImages) {
        long total = src.images();
        List<Slice> slices = new ArrayList<>();
        for (Map.Entry<String, IdxFile[]> e : src.headers().entrySet()) {
            IdxFile ih = e.getValue()[0];
            int per = (int) Math.max(Math.max(1, Math.ceil(ih.count() * (double) nSlices / total)),
                    Math.ceil(ih.count() / (double) maxImages));
            int step = (ih.count() + per - 1) / per;
            byte[] lb = src.labels().get(e.getKey());
            for (int start = 0; start < ih.count(); start += step) {
                int count = Math.min(step, ih.count() - start);
                slices.add(new Slice(e.getKey(), src.files().get(FILES.get(e.getKey())[0]).toString(), ih.headerBytes(),
                        start, count, ih.rows(), ih.cols(), Arrays.copyOfRange(lb, start, start + count), src.classes()));
            }
        }
        return slices;
    }

    /** Executors read their slices and write the PNGs themselves. */
    private static List<SliceResult> writeImages(JavaSparkContext sc, List<Slice> slices, Path out) {
        SerializableHadoopConf shc = new SerializableHadoopConf(sc.hadoopConfiguration());
        String outUri = out.toString();
        return sc.parallelize(slices, slices.size()).map(s -> writeSlice(s, outUri, shc.get())).collect();
    }

    /** Manifest (sorted by split then path: the same input always gives byte-identical output), then the descriptor. */
    static DatasetDescriptor writeDataset(Path out, String source, Source src, List<SliceResult> results, Configuration conf)
            throws IOException {
        List<String> classes = src.classes();
        List<String> manifest = new ArrayList<>();
        Map<String, Long> splits = new LinkedHashMap<>();
        Map<String, Map<String, Long>> classCounts = new LinkedHashMap<>();
        double sum = 0, sumSq = 0;
        long pixels = 0;
        for (String split : FILES.keySet()) {
            long[] counts = new long[classes.size()];
            List<String> rowsOfSplit = new ArrayList<>();
            for (SliceResult r : results) {
                if (!r.split().equals(split)) continue;
                rowsOfSplit.addAll(r.rows());
                for (int c = 0; c < counts.length; c++) counts[c] += r.classCounts()[c];
                if (split.equals("train")) {
                    sum += r.pixelSum();
                    sumSq += r.pixelSumSq();
                    pixels += r.pixels();
                }
            }
            rowsOfSplit.sort(Comparator.naturalOrder());
            manifest.addAll(rowsOfSplit);
            splits.put(split, (long) rowsOfSplit.size());
            Map<String, Long> perClass = new LinkedHashMap<>(); // in label order
            for (int c = 0; c < counts.length; c++) perClass.put(classes.get(c), counts[c]);
            classCounts.put(split, perClass);
        }
        double mean = sum / pixels;
        double std = Math.sqrt(Math.max(0, sumSq / pixels - mean * mean));
        IdxFile train = src.headers().get("train")[0];
        return DatasetWriter.write(out, manifest, new DatasetWriter.Description("mnist", "mnist-idx")
                .classes(classes).geometry(1, train.rows(), train.cols()).counts(splits, classCounts)
                .normalisation(new double[] {mean}, new double[] {std}).source(source, src.contentHash()), conf);
    }

    static SliceResult writeSlice(Slice s, String outUri, Configuration conf) {
        Path out = new Path(outUri);
        int px = s.rows() * s.cols();
        byte[] pixels = new byte[s.count() * px];
        byte[] labels = s.labels();
        List<String> classes = s.classes();
        try {
            try (InputStream in = openSlice(s, conf)) {
                if (in.readNBytes(pixels, 0, pixels.length) != pixels.length) throw new EOFException("ends early");
            }
            List<String> rows = new ArrayList<>(s.count());
            long[] counts = new long[classes.size()];
            double sum = 0, sumSq = 0;
            BufferedImage img = new BufferedImage(s.cols(), s.rows(), BufferedImage.TYPE_BYTE_GRAY);
            byte[] raster = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
            ByteArrayOutputStream png = new ByteArrayOutputStream(1024);
            for (int i = 0; i < s.count(); i++) {
                int label = labels[i] & 0xff; // every label value has a class: checked on the driver
                System.arraycopy(pixels, i * px, raster, 0, px);
                for (int j = i * px; j < (i + 1) * px; j++) {
                    double v = (pixels[j] & 0xff) / 255.0;
                    sum += v;
                    sumSq += v * v;
                }
                String rel = String.format("%s/%d/%05d.png", s.split(), label, s.start() + i);
                HadoopFs.write(new Path(out, rel), png(img, png), conf);
                rows.add(ManifestCsv.line(rel, classes.get(label), s.split()));
                counts[label]++;
            }
            return new SliceResult(s.split(), rows, counts, sum, sumSq, (long) s.count() * px);
        } catch (IOException e) {
            throw new UncheckedIOException("ingest of " + s.images() + " items " + s.start() + ".." + (s.start() + s.count())
                    + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * The slice's images file, positioned at its first image. The source and the output may be on different file
     * systems (local IDX files -> hdfs://).
     */
    static InputStream openSlice(Slice s, Configuration conf) throws IOException {
        Path images = new Path(s.images());
        FileSystem fs = HadoopFs.fs(images, conf);
        long offset = (long) s.headerImages() + (long) s.start() * s.rows() * s.cols();
        if (s.images().endsWith(GZ)) {
            // No random access into gzip: decompress and discard up to this slice (MNIST's 47 MB take well under 1 s).
            InputStream gz = new GZIPInputStream(fs.open(images), 1 << 16);
            try {
                gz.skipNBytes(offset);
            } catch (IOException e) {
                gz.close();
                throw e;
            }
            return gz;
        }
        FSDataInputStream raw = fs.open(images, 1 << 16);
        raw.seek(offset);
        return raw;
    }

    /** A grey image as PNG bytes, through the given (reused) buffer. */
    static byte[] png(BufferedImage img, ByteArrayOutputStream buffer) throws IOException {
        buffer.reset();
        ImageIO.write(img, "png", buffer);
        return buffer.toByteArray();
    }

    /** Each expected file, plain or gzipped; when any is missing, says which files were found and which are expected. */
    static Map<String, Path> locate(Path src, Configuration conf) throws IOException {
        Map<String, Path> found = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (String[] pair : FILES.values()) {
            for (String name : pair) {
                expected.add(name);
                Path plain = new Path(src, name), gz = new Path(src, name + GZ);
                if (HadoopFs.exists(plain, conf)) found.put(name, plain); // both there: the plain one reads faster
                else if (HadoopFs.exists(gz, conf)) found.put(name, gz);
                else missing.add(name);
            }
        }
        if (missing.isEmpty()) return found;
        String present = "nothing (the folder does not exist)";
        if (HadoopFs.exists(src, conf)) {
            List<String> names = new ArrayList<>();
            for (FileStatus st : HadoopFs.fs(src, conf).listStatus(src)) names.add(st.getPath().getName());
            names.sort(Comparator.naturalOrder());
            present = names.isEmpty() ? "nothing (the folder is empty)" : names.toString();
        }
        throw new IllegalArgumentException("MNIST file(s) missing in " + src + ": " + missing + " (neither plain nor " + GZ
                + "). Found there: " + present + ". ingest.source must be a folder holding " + expected + ", each plain or "
                + "gzipped (e.g. " + expected.get(0) + GZ + ", as MNIST and Fashion-MNIST are distributed); "
                + "scripts/fetch-mnist puts MNIST in the cache");
    }

    /**
     * Reads one IDX file (decompressing a .gz) once: its header, its length against what the header promises, its
     * bytes into the content hash, and for label files the bytes themselves into {@code keep}.
     */
    static IdxFile scan(Path p, Configuration conf, MessageDigest md, boolean images, ByteArrayOutputStream keep) throws IOException {
        boolean gz = p.getName().endsWith(GZ);
        try (InputStream in = gz ? gunzip(HadoopFs.open(p, conf), p) : HadoopFs.open(p, conf)) {
            byte[] head = in.readNBytes(images ? 16 : 8);
            IdxFile h = images ? IdxFile.readImagesHeader(p.toString(), new ByteArrayInputStream(head))
                    : IdxFile.readLabelsHeader(p.toString(), new ByteArrayInputStream(head));
            md.update(head);
            if (keep != null) keep.write(head);
            long length = head.length;
            byte[] buf = new byte[1 << 16];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                    if (keep != null) keep.write(buf, 0, n);
                    length += n;
                }
            } catch (EOFException | ZipException e) {
                throw new IllegalArgumentException(p + " is a damaged gzip file (" + e.getMessage()
                        + "; truncated download?); fetch it again", e);
            }
            long expected = (long) h.headerBytes() + (long) h.count() * h.itemBytes();
            if (length != expected) {
                throw new IllegalArgumentException(p + " is " + length + " bytes" + (gz ? " uncompressed" : "")
                        + ", its header promises " + expected + " (truncated download?); fetch it again");
            }
            return h;
        }
    }

    private static InputStream gunzip(InputStream raw, Path p) throws IOException {
        try {
            return new GZIPInputStream(raw, 1 << 16);
        } catch (ZipException | EOFException e) {
            raw.close();
            throw new IllegalArgumentException(p + " is named " + GZ + " but is not gzip data (" + e.getMessage()
                    + "); fetch it again, or drop the " + GZ + " if it is a plain IDX file", e);
        }
    }

    /** The class index: ingest.class-names, or the label numbers 0..max; every label value must have a class. */
    static List<String> classes(Map<String, byte[]> labelsBySplit, Map<String, Path> files, List<String> names) {
        int max = -1;
        String where = null;
        for (Map.Entry<String, byte[]> e : labelsBySplit.entrySet()) {
            for (byte b : e.getValue()) {
                if ((b & 0xff) > max) {
                    max = b & 0xff;
                    where = files.get(FILES.get(e.getKey())[1]).toString();
                }
            }
        }
        int n = max + 1;
        if (names.isEmpty()) {
            List<String> numbers = new ArrayList<>();
            for (int c = 0; c < n; c++) numbers.add(Integer.toString(c));
            return numbers;
        }
        if (names.size() != n) {
            throw new IllegalArgumentException("ingest.class-names has " + names.size() + " names, but the labels run from 0 to "
                    + max + " (" + n + " classes; label " + max + " is in " + where + "): give exactly one name per label "
                    + "value, in label order (label 0 first)");
        }
        return List.copyOf(names);
    }
}
