package io.sparkvision.data;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.SerializableHadoopConf;
import io.sparkvision.util.Hashing;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns MNIST's IDX files into the product's dataset layout: {@code <split>/<class>/<index>.png}, a
 * {@code manifest.csv} and a {@code dataset.json}. Executors read their slice of the IDX files and write the
 * PNGs themselves, so this works the same from and to file://, hdfs:// and s3a://.
 */
public final class MnistIdxIngest {
    /** The four files of the MNIST distribution, by split. */
    static final Map<String, String[]> FILES = new LinkedHashMap<>();

    static {
        FILES.put("train", new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"});
        FILES.put("test", new String[] {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"});
    }

    private static final List<String> CLASSES = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");

    private MnistIdxIngest() {
    }

    /** What an ingest did. */
    public record Result(DatasetDescriptor descriptor, boolean skippedUnchanged, long written, double seconds) {
    }

    /** One task's work: a contiguous range of one split. */
    record Slice(String split, String images, String labels, int headerImages, int start, int count, int rows, int cols)
            implements Serializable {
    }

    /** One task's output: manifest rows and the statistics the descriptor needs. */
    record SliceResult(String split, List<String> rows, long[] classCounts, double pixelSum, double pixelSumSq, long pixels)
            implements Serializable {
    }

    public static Result run(JavaSparkContext sc, String source, String output, int partitions, PrintStream log) throws IOException {
        long t0 = System.nanoTime();
        Configuration conf = sc.hadoopConfiguration();
        Path src = HadoopFs.path(source);
        Path out = HadoopFs.path(output);

        // Validate every input file before any Spark work.
        Map<String, IdxFile[]> headers = new LinkedHashMap<>();
        MessageDigest md = Hashing.sha256();
        for (Map.Entry<String, String[]> e : FILES.entrySet()) {
            Path img = new Path(src, e.getValue()[0]);
            Path lab = new Path(src, e.getValue()[1]);
            for (Path p : new Path[] {img, lab}) {
                if (!HadoopFs.exists(p, conf)) {
                    throw new IllegalArgumentException("MNIST file missing: " + p + ". ingest.source must be a directory "
                            + "holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
                            + "t10k-labels-idx1-ubyte (scripts/fetch-mnist puts them in the cache)");
                }
            }
            IdxFile ih, lh;
            try (InputStream in = HadoopFs.open(img, conf)) {
                ih = IdxFile.readImagesHeader(img.toString(), in);
            }
            try (InputStream in = HadoopFs.open(lab, conf)) {
                lh = IdxFile.readLabelsHeader(lab.toString(), in);
            }
            if (ih.count() != lh.count()) {
                throw new IllegalArgumentException(img + " holds " + ih.count() + " images but " + lab + " holds "
                        + lh.count() + " labels; the two files must come from the same release");
            }
            long expected = (long) ih.headerBytes() + (long) ih.count() * ih.itemBytes();
            long actual = HadoopFs.fs(img, conf).getFileStatus(img).getLen();
            if (actual != expected) {
                throw new IllegalArgumentException(img + " is " + actual + " bytes, its header promises " + expected
                        + " (truncated download?); fetch it again");
            }
            headers.put(e.getKey(), new IdxFile[] {ih, lh});
            for (Path p : new Path[] {img, lab}) {
                try (InputStream in = HadoopFs.open(p, conf)) {
                    Hashing.update(md, in);
                }
            }
        }
        String contentHash = Hashing.hex(md);

        Path descriptorPath = new Path(out, DatasetDescriptor.FILE_NAME);
        if (HadoopFs.exists(descriptorPath, conf)) {
            DatasetDescriptor existing = Json.read(HadoopFs.readString(descriptorPath, conf), DatasetDescriptor.class);
            if (contentHash.equals(existing.contentHash())) {
                log.printf("ingest: %s already holds this source (%s); nothing to do%n", output, contentHash.substring(0, 19));
                return new Result(existing, true, 0, (System.nanoTime() - t0) / 1e9);
            }
            throw new IllegalArgumentException(output + " already holds a different dataset (" + existing.source()
                    + "); choose another ingest.output or delete it");
        }

        int rows = headers.get("train")[0].rows(), cols = headers.get("train")[0].cols();
        long total = headers.values().stream().mapToLong(h -> h[0].count()).sum();
        int nSlices = partitions > 0 ? partitions : sc.defaultParallelism() * 4;
        List<Slice> slices = new ArrayList<>();
        for (Map.Entry<String, IdxFile[]> e : headers.entrySet()) {
            IdxFile ih = e.getValue()[0];
            int per = (int) Math.max(1, Math.ceil(ih.count() * (double) nSlices / total));
            int step = (ih.count() + per - 1) / per;
            for (int start = 0; start < ih.count(); start += step) {
                slices.add(new Slice(e.getKey(), new Path(src, FILES.get(e.getKey())[0]).toString(),
                        new Path(src, FILES.get(e.getKey())[1]).toString(), ih.headerBytes(), start,
                        Math.min(step, ih.count() - start), ih.rows(), ih.cols()));
            }
        }
        log.printf("ingest: %,d images from %s -> %s in %d tasks%n", total, source, output, slices.size());

        SerializableHadoopConf shc = new SerializableHadoopConf(conf);
        String outUri = out.toString();
        List<SliceResult> results = sc.parallelize(slices, slices.size())
                .map(s -> writeSlice(s, outUri, shc.get()))
                .collect();

        // Manifest: sorted by split then path, so the same input always gives byte-identical output.
        results = new ArrayList<>(results);
        StringBuilder manifest = new StringBuilder("path,label,split\n");
        Map<String, Long> splits = new LinkedHashMap<>();
        Map<String, Map<String, Long>> classCounts = new LinkedHashMap<>();
        double sum = 0, sumSq = 0;
        long pixels = 0;
        for (String split : FILES.keySet()) {
            long[] counts = new long[CLASSES.size()];
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
            for (String row : rowsOfSplit) manifest.append(row).append('\n');
            splits.put(split, (long) rowsOfSplit.size());
            Map<String, Long> perClass = new TreeMap<>(Comparator.comparingInt(Integer::parseInt));
            for (int c = 0; c < counts.length; c++) perClass.put(CLASSES.get(c), counts[c]);
            classCounts.put(split, perClass);
        }
        byte[] manifestBytes = manifest.toString().getBytes(StandardCharsets.UTF_8);
        HadoopFs.writeAtomically(new Path(out, DatasetDescriptor.MANIFEST), conf, o -> o.write(manifestBytes));

        double mean = sum / pixels;
        double std = Math.sqrt(Math.max(0, sumSq / pixels - mean * mean));
        DatasetDescriptor d = new DatasetDescriptor(1, "mnist", CLASSES, 1, rows, cols, splits, classCounts,
                new double[] {mean}, new double[] {std}, source, contentHash, DatasetDescriptor.MANIFEST,
                Hashing.sha256(manifestBytes), Instant.now().toString(), "mnist-idx", null, null);
        // The descriptor goes last: its presence marks a complete dataset.
        HadoopFs.writeStringAtomically(descriptorPath, Json.pretty(d), conf);
        double secs = (System.nanoTime() - t0) / 1e9;
        log.printf("ingest: wrote %,d images in %.1f s (%,.0f images/s)%n", total, secs, total / secs);
        return new Result(d, false, total, secs);
    }

    static SliceResult writeSlice(Slice s, String outUri, Configuration conf) {
        Path out = new Path(outUri);
        FileSystem fs = HadoopFs.fs(out, conf);
        int px = s.rows() * s.cols();
        byte[] pixels = new byte[s.count() * px];
        byte[] labels = new byte[s.count()];
        try {
            // The source and the output may be on different file systems (local IDX files -> hdfs://).
            Path images = new Path(s.images()), labelFile = new Path(s.labels());
            try (FSDataInputStream in = HadoopFs.fs(images, conf).open(images)) {
                in.readFully((long) s.headerImages() + (long) s.start() * px, pixels);
            }
            try (FSDataInputStream in = HadoopFs.fs(labelFile, conf).open(labelFile)) {
                in.readFully(8L + s.start(), labels);
            }
            List<String> rows = new ArrayList<>(s.count());
            long[] counts = new long[CLASSES.size()];
            double sum = 0, sumSq = 0;
            BufferedImage img = new BufferedImage(s.cols(), s.rows(), BufferedImage.TYPE_BYTE_GRAY);
            byte[] raster = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
            ByteArrayOutputStream png = new ByteArrayOutputStream(1024);
            for (int i = 0; i < s.count(); i++) {
                int label = labels[i] & 0xff;
                if (label >= CLASSES.size()) {
                    throw new IOException(s.labels() + ": label " + label + " at item " + (s.start() + i) + " is not a digit 0-9");
                }
                System.arraycopy(pixels, i * px, raster, 0, px);
                for (int j = i * px; j < (i + 1) * px; j++) {
                    double v = (pixels[j] & 0xff) / 255.0;
                    sum += v;
                    sumSq += v * v;
                }
                png.reset();
                ImageIO.write(img, "png", png);
                String rel = String.format("%s/%s/%05d.png", s.split(), CLASSES.get(label), s.start() + i);
                HadoopFs.write(new Path(out, rel), png.toByteArray(), conf);
                rows.add(rel + "," + CLASSES.get(label) + "," + s.split());
                counts[label]++;
            }
            return new SliceResult(s.split(), rows, counts, sum, sumSq, (long) s.count() * px);
        } catch (IOException e) {
            throw new UncheckedIOException("ingest of " + s.images() + " items " + s.start() + ".." + (s.start() + s.count())
                    + " failed: " + e.getMessage(), e);
        }
    }
}
