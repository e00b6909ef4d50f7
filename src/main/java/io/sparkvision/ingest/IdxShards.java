package io.sparkvision.ingest;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.SerializableHadoopConf;
import io.sparkvision.util.Hashing;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.util.TaskCompletionListener;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

import static org.apache.spark.sql.functions.col;

/**
 * The Parquet layout of an IDX ingest (docs/dataset-format.md), the same as an image ingest's: each task reads its
 * slice of one split's IDX images file and streams its images as {@link ShardIngest#IMAGE} rows into Spark's
 * Parquet writer, which the executors run in parallel, under {@code images/split=<split>/run=<run>/}. Nothing per
 * image comes back to the driver: the class counts and the rows' hash are aggregates of the written shards, the
 * normalisation statistics a sum over the train split's bytes. The ingest state records the IDX files themselves
 * (as archive records: containers of images); whether a re-run has anything to do is decided, as for png-files, by
 * the IDX content hash in dataset.json ({@link MnistIdxIngest#existingDataset}).
 */
final class IdxShards {
    private IdxShards() {
    }

    static DatasetDescriptor write(JavaSparkContext sc, String source, MnistIdxIngest.Source src, Path out, String encoding,
                                   int shardMb, int partitions, PrintStream log) throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        IdxFile train = src.headers().get("train")[0];
        int channels = 1, height = train.rows(), width = train.cols();
        // Raw rows are exactly the IDX bytes; PNG rows are modelled at 60% of them, as the image ingest does.
        long bytesPerImage = (long) channels * height * width * (DatasetStorage.RAW.equals(encoding) ? 10 : 6) / 10;
        int shardRows = DatasetStorage.rowsPerShard(shardMb, bytesPerImage);
        // One task per shard: as many as the cores (so all write at once), more where a split exceeds a shard.
        List<MnistIdxIngest.Slice> slices = MnistIdxIngest.slices(src, partitions > 0 ? partitions : sc.defaultParallelism(),
                shardRows);
        // A run that died before its dataset.json left shards no reader takes; remove them before writing anew.
        ShardIngest.removeUncommitted(out, List.of(), conf);
        long run = System.currentTimeMillis();
        log.printf("ingest: %,d images of %d classes from %s -> %s in %d tasks, shards of at most %,d rows (%d MB at %s)%n",
                src.images(), src.classes().size(), source, out, slices.size(), shardRows, shardMb, encoding);

        SerializableHadoopConf shc = new SerializableHadoopConf(conf);
        JavaRDD<Row> rows = sc.parallelize(slices, slices.size()).mapPartitions(it -> {
            // One slice per partition (parallelize gives each of n elements its own of n partitions).
            return it.hasNext() ? rowsOf(it.next(), encoding, run, shc.get()) : java.util.Collections.emptyIterator();
        });
        String images = new Path(out, DatasetStorage.IMAGES).toString();
        spark.createDataFrame(rows, ShardIngest.IMAGE).write().mode(SaveMode.Append).partitionBy("split", "run")
                .option("maxRecordsPerFile", shardRows).option("compression", "zstd").parquet(images);
        writeState(spark, src, out, run, conf);

        Dataset<Row> written = spark.read().parquet(images).filter(col("run").cast("long").equalTo(run));
        DatasetStorage storage = new DatasetStorage(DatasetStorage.PARQUET, DatasetStorage.IMAGES, encoding, shardRows,
                shardMb, DatasetStorage.STATE, null, List.of(run));
        long[] stats = trainStatistics(sc, src, shc);
        double n = Math.max(1, stats[2]), mean = stats[0] / 255.0 / n; // of v = byte / 255, as every job normalises
        double std = Math.sqrt(Math.max(0, stats[1] / (255.0 * 255.0) / n - mean * mean));
        Map<String, Map<String, Long>> classCounts = classCounts(written, src);
        Map<String, Long> splits = new LinkedHashMap<>();
        classCounts.forEach((split, perClass) -> splits.put(split, perClass.values().stream().mapToLong(Long::longValue).sum()));
        DatasetDescriptor d = DatasetWriter.writeSharded(out, new DatasetWriter.Description("mnist", "mnist-idx")
                        .classes(src.classes()).geometry(channels, height, width).counts(splits, classCounts)
                        .normalisation(new double[] {mean}, new double[] {std}).source(source, src.contentHash()).storage(storage),
                ShardIngest.bucketHash(written.select("path", "label", "split"), "path", "label", "split"), conf);
        log.printf("ingest: %s%n", shardSummary(out, run, conf));
        return d;
    }

    /** A slice's images as shard rows, read one at a time from the IDX stream (a task never holds its whole slice). */
    static Iterator<Row> rowsOf(MnistIdxIngest.Slice s, String encoding, long run, Configuration conf) throws IOException {
        InputStream in = MnistIdxIngest.openSlice(s, conf);
        TaskContext task = TaskContext.get();
        if (task != null) task.addTaskCompletionListener((TaskCompletionListener) ctx -> close(in)); // also on a failed write
        boolean raw = DatasetStorage.RAW.equals(encoding);
        int px = s.rows() * s.cols();
        BufferedImage img = raw ? null : new BufferedImage(s.cols(), s.rows(), BufferedImage.TYPE_BYTE_GRAY);
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(1024);
        return new Iterator<>() {
            int i;

            @Override
            public boolean hasNext() {
                if (i < s.count()) return true;
                close(in);
                return false;
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                int index = s.start() + i, label = s.labels()[i] & 0xff; // every label value has a class: checked on the driver
                i++;
                try {
                    byte[] pixels = new byte[px];
                    if (in.readNBytes(pixels, 0, px) != px) throw new EOFException("ends early");
                    String path = String.format("%s/%d/%05d", s.split(), label, index);
                    byte[] image = pixels;
                    if (!raw) {
                        System.arraycopy(pixels, 0, ((DataBufferByte) img.getRaster().getDataBuffer()).getData(), 0, px);
                        image = MnistIdxIngest.png(img, buffer);
                        path += ".png";
                    }
                    // One grey channel: the IDX bytes are already uint8 channel-major. PNG rows leave the geometry 0.
                    return RowFactory.create(path, s.classes().get(label), s.images() + "!/" + index, Hashing.sha256(pixels),
                            image, raw ? 1 : 0, raw ? s.rows() : 0, raw ? s.cols() : 0, s.split(), run);
                } catch (IOException e) {
                    throw new UncheckedIOException("ingest of " + s.images() + " item " + index + " failed: " + e.getMessage(), e);
                }
            }
        };
    }

    private static void close(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // read to its end already, or the task failed for another reason
        }
    }

    /** The ingest state of this run: one archive record per IDX file, as the image ingest records an archive. */
    private static void writeState(SparkSession spark, MnistIdxIngest.Source src, Path out, long run, Configuration conf)
            throws IOException {
        List<Row> rows = new ArrayList<>();
        for (Path p : src.files().values()) {
            FileStatus st = HadoopFs.fs(p, conf).getFileStatus(p);
            String uri = st.getPath().toString();
            rows.add(ShardIngest.outcomeRow(Outcome.archiveRecord(uri, st.getLen(), st.getModificationTime()),
                    SourcePaths.rootPath(st.getPath().getParent())));
        }
        spark.createDataFrame(rows, ShardIngest.OUTCOME).coalesce(1).write().mode(SaveMode.ErrorIfExists)
                .parquet(new Path(out, DatasetStorage.STATE + "/run=" + run).toString());
    }

    /** Sums of v and v^2 (v = byte, exact in longs, so slicing cannot change them) and the pixel count of the train split. */
    private static long[] trainStatistics(JavaSparkContext sc, MnistIdxIngest.Source src, SerializableHadoopConf shc) {
        List<MnistIdxIngest.Slice> train = new ArrayList<>();
        for (MnistIdxIngest.Slice s : MnistIdxIngest.slices(src, sc.defaultParallelism())) {
            if (s.split().equals("train")) train.add(s);
        }
        if (train.isEmpty()) return new long[3];
        return sc.parallelize(train, train.size()).map(s -> {
            long sum = 0, sumSq = 0;
            byte[] buf = new byte[s.rows() * s.cols()];
            try (InputStream in = MnistIdxIngest.openSlice(s, shc.get())) {
                for (int i = 0; i < s.count(); i++) {
                    if (in.readNBytes(buf, 0, buf.length) != buf.length) throw new EOFException(s.images() + " ends early");
                    for (byte b : buf) {
                        int v = b & 0xff;
                        sum += v;
                        sumSq += (long) v * v;
                    }
                }
            }
            return new long[] {sum, sumSq, (long) s.count() * buf.length};
        }).reduce((a, b) -> new long[] {a[0] + b[0], a[1] + b[1], a[2] + b[2]});
    }

    /** Images per split and class (classes in label order, absent ones 0), counted in the written shards. */
    private static Map<String, Map<String, Long>> classCounts(Dataset<Row> written, MnistIdxIngest.Source src) {
        Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
        for (String split : MnistIdxIngest.FILES.keySet()) {
            Map<String, Long> perClass = new LinkedHashMap<>();
            for (String c : src.classes()) perClass.put(c, 0L);
            counts.put(split, perClass);
        }
        for (Row r : written.groupBy("split", "label").count().collectAsList()) {
            counts.get(r.getString(0)).put(r.getString(1), r.getLong(2));
        }
        return counts;
    }

    /** "N shards, B bytes" of this run, listed per split folder (a few entries, not per image). */
    private static String shardSummary(Path out, long run, Configuration conf) throws IOException {
        FileSystem fs = HadoopFs.fs(out, conf);
        StringBuilder sb = new StringBuilder("shards:");
        for (String split : MnistIdxIngest.FILES.keySet()) {
            Path dir = new Path(out, DatasetStorage.IMAGES + "/split=" + split + "/run=" + run);
            int files = 0;
            long bytes = 0;
            if (fs.exists(dir)) {
                for (FileStatus st : fs.listStatus(dir, p -> p.getName().endsWith(".parquet"))) {
                    files++;
                    bytes += st.getLen();
                }
            }
            sb.append(String.format(" %s %d (%,.1f MB)", split, files, bytes / 1e6));
        }
        return sb.toString();
    }
}
