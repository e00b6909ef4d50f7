package io.sparkvision.ingest;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.SerializableHadoopConf;
import io.sparkvision.util.Hashing;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * The parquet layout of an image ingest (docs/dataset-format.md): the executors decode and prepare the new or
 * changed source files and write them, in parallel, through Spark SQL's Parquet writer as shards of at most
 * {@link DatasetStorage#rowsPerShard} rows under {@code images/split=<split>/run=<run>/}, and every file's outcome
 * as rows under {@code ingest-state/run=<run>/}. The driver lists the source (as the png-files layout does) but
 * never gathers a per-image result: counts, class sets, statistics, the content hash and the first skipped items
 * come back as aggregates; the full skip list is written by the executors as JSON lines. dataset.json, written
 * last, names the committed runs: a run that died before it is ignored by every reader and deleted by the next run.
 */
final class ShardIngest {
    static final StructType ITEM = new StructType()
            .add("uri", DataTypes.StringType, false).add("size", DataTypes.LongType, false)
            .add("mtime", DataTypes.LongType, false).add("split", DataTypes.StringType).add("label", DataTypes.StringType)
            .add("prefix", DataTypes.createArrayType(DataTypes.StringType));
    /** One source item's outcome (ingest-state rows): {@link Outcome}'s fields plus its store-independent name. */
    static final StructType OUTCOME = new StructType()
            .add("source", DataTypes.StringType, false).add("relSource", DataTypes.StringType, false)
            .add("size", DataTypes.LongType, false).add("mtime", DataTypes.LongType, false)
            .add("archive", DataTypes.BooleanType, false).add("sha256", DataTypes.StringType)
            .add("path", DataTypes.StringType).add("label", DataTypes.StringType).add("split", DataTypes.StringType)
            .add("pixels", DataTypes.LongType, false).add("sums", DataTypes.createArrayType(DataTypes.DoubleType))
            .add("reason", DataTypes.StringType);
    /** One stored image: a shard row (split and run are the folders above the shard). */
    static final StructType IMAGE = new StructType()
            .add("path", DataTypes.StringType, false).add("label", DataTypes.StringType, false)
            .add("source", DataTypes.StringType, false).add("sha256", DataTypes.StringType, false)
            .add("image", DataTypes.BinaryType, false).add("channels", DataTypes.IntegerType, false)
            .add("height", DataTypes.IntegerType, false).add("width", DataTypes.IntegerType, false)
            .add("split", DataTypes.StringType, false).add("run", DataTypes.LongType, false);
    private static final int HASH_BUCKETS = 256;
    /** Spark accumulator: the source items read and decoded by an ingest (one pass decodes each once). */
    static final String DECODED = "sparkvision.ingest.decoded";

    private ShardIngest() {
    }

    static ImageIngest.Result run(JavaSparkContext sc, String format, Path src, Path out, String output, IngestSettings s,
                                  String encoding, int shardMb, List<String> classIndex, int partitions, PrintStream log)
            throws IOException {
        long t0 = System.nanoTime();
        String startedAt = Instant.now().toString();
        Configuration conf = sc.hadoopConfiguration();
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        DatasetDescriptor before = ImageIngest.existing(out, output, src, s, conf);
        if (before != null && !before.sharded()) {
            throw new IllegalArgumentException(output + " holds a png-files dataset (one PNG per image); convert it to "
                    + "Parquet shards first (scripts/sparkvision convert-dataset --data " + output
                    + " --to <new root>) or keep ingest.layout = png-files for it");
        }
        if (before != null && !before.storage().encoding().equals(encoding)) {
            throw new IllegalArgumentException(output + " stores images as " + before.storage().encoding()
                    + "; this ingest would add " + encoding + " ones: set ingest.encoding = " + before.storage().encoding());
        }
        List<Long> committed = before == null ? List.of() : before.storage().runs();
        removeUncommitted(out, committed, conf);
        String rootPath = ImageIngest.rootPath(format, src, conf);
        // A folder tree is listed by the executors (the driver holds folder names only); a manifest's rows are read,
        // resolved and found by the executors too (the driver holds counts and class names).
        ParallelListing.Listed l = format.equals("manifest")
                ? ManifestListing.list(sc, src, out, s, classIndex, before, log)
                : ParallelListing.list(sc, src, out, s, classIndex, before, log);
        Dataset<Row> listed = l.items();
        long listedCount = l.count();
        try {
            if (listedCount == 0) throw ImageIngest.noImages(format, src);
            return ingest(sc, spark, format, src, out, s, encoding, shardMb, classIndex, partitions, log, t0, startedAt,
                    before, committed, rootPath, listed, listedCount);
        } finally {
            l.release();
        }
    }

    private static ImageIngest.Result ingest(JavaSparkContext sc, SparkSession spark, String format, Path src, Path out,
                                             IngestSettings s, String encoding, int shardMb, List<String> classIndex,
                                             int partitions, PrintStream log, long t0, String startedAt,
                                             DatasetDescriptor before, List<Long> committed, String rootPath,
                                             Dataset<Row> listed, long listedCount) throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        // Outcomes a run staged before it died: never part of the dataset (as its uncommitted run= folders).
        Path deadStaging = new Path(out, OutcomeStaging.DIR);
        HadoopFs.fs(deadStaging, conf).delete(deadStaging, true);
        Dataset<Row> previous = before == null ? null : current(spark, out, committed);
        Dataset<Row> todo = previous == null ? listed : listed.join(previous.select(col("source"),
                        col("size").as("psize"), col("mtime").as("pmtime")),
                col("uri").equalTo(col("source")).and(col("size").equalTo(col("psize"))).and(col("mtime").equalTo(col("pmtime"))),
                "left_anti");
        long todoCount = todo.count();
        if (todoCount == 0 && before != null) {
            log.printf("ingest: all %,d source files of %s were ingested before; nothing to do%n", listedCount, src);
            return new ImageIngest.Result(before, null, true, (System.nanoTime() - t0) / 1e9);
        }
        long run = Math.max(System.currentTimeMillis(), committed.isEmpty() ? 0 : committed.get(committed.size() - 1) + 1);
        int shardRows = DatasetStorage.rowsPerShard(shardMb, storedBytesPerImage(s, encoding));
        // Each task decodes about one shard's worth of one split (range partitioning keeps splits apart), and writes it.
        int tasks = partitions > 0 ? partitions : (int) Math.max(Math.min(sc.defaultParallelism(), todoCount),
                (todoCount + shardRows - 1) / shardRows);
        log.printf("ingest: %,d new or changed source files of %,d listed (%,d unchanged) from %s -> %s in %d tasks, "
                        + "shards of at most %,d rows (%d MB at %s)%n", todoCount, listedCount, listedCount - todoCount, src, out,
                tasks, shardRows, shardMb, encoding);

        // One pass: each task decodes its slice, hands the images to the shard writer and stages every item's outcome
        // (OutcomeStaging); no decoded copy is kept. With a class index the task drops images outside it; without
        // one, the train split's classes are known only once every image was decoded (a class whose train images
        // all fail, an archive's entries): images of other classes are dropped from their shards afterwards.
        String trainSplit = s.splits().get(0);
        String outside = "' is not in the class index " + (classIndex != null ? "(ingest.class-index)"
                : "(no '" + trainSplit + "' images of it)") + "; add it there or remove the image";
        Set<String> index = classIndex == null ? null : new HashSet<>(classIndex);
        Path staging = OutcomeStaging.dir(out, run);
        String stagingDir = new Path(staging, OutcomeStaging.OUTCOMES).toString();
        LongAccumulator decoded = sc.sc().longAccumulator(DECODED);
        SerializableHadoopConf shc = new SerializableHadoopConf(conf);
        JavaRDD<Row> imageRows = todo.repartitionByRange(tasks, col("split"), col("uri")).javaRDD()
                .mapPartitions(rows -> OutcomeStaging.imageRows(IngestTask.stored(items(rows), null, rootPath, s, encoding,
                        shc.get()), index, outside, run, decoded, stagingDir, shc.get()));
        // The shards: one write by the executors; a task's rows of one split roll over into a new file at shardRows.
        spark.createDataFrame(imageRows, IMAGE).write().mode(SaveMode.Append).partitionBy("split", "run")
                .option("maxRecordsPerFile", shardRows).option("compression", "zstd")
                .parquet(new Path(out, DatasetStorage.IMAGES).toString());

        // Classes: the train split's (a few names, aggregated from the staged outcomes), or the given index.
        Dataset<Row> staged = spark.createDataFrame(spark.read().textFile(stagingDir).javaRDD()
                .map(line -> outcomeRow(OutcomeStaging.parse(line), rootPath)), OUTCOME);
        List<Row> okClasses = staged.filter(ok()).select("split", "label").distinct().collectAsList();
        Set<String> trainClasses = new TreeSet<>(before == null ? List.of() : before.classes());
        for (Row r : okClasses) if (trainSplit.equals(r.getString(0))) trainClasses.add(r.getString(1));
        Set<String> allowed = classIndex != null ? new TreeSet<>(classIndex) : trainClasses;
        Set<String> splitsWithOthers = new TreeSet<>();
        for (Row r : okClasses) if (!allowed.contains(r.getString(1))) splitsWithOthers.add(r.getString(0));
        for (String split : splitsWithOthers) dropOtherClasses(spark, out, split, run, allowed, shardRows, staging, conf);

        // Every item's outcome as rows (images of classes outside the index become skips here), in few files:
        // ~200 bytes a row, so one file per 500,000 items rather than one per task.
        Path stateRun = new Path(out, DatasetStorage.STATE + "/run=" + run);
        Column unknown = ok().and(not(col("label").isin(allowed.toArray())));
        Column why = concat(lit("class '"), col("label"), lit(outside));
        staged.withColumn("reason", when(unknown, why).otherwise(col("reason")))
                .withColumn("path", when(unknown, lit(null)).otherwise(col("path")))
                .withColumn("pixels", when(unknown, lit(0L)).otherwise(col("pixels")))
                .withColumn("sums", when(unknown, lit(null)).otherwise(col("sums")))
                .coalesce((int) Math.max(1, Math.min(tasks, todoCount / 500_000)))
                .write().mode(SaveMode.ErrorIfExists).parquet(stateRun.toString());
        HadoopFs.fs(deadStaging, conf).delete(deadStaging, true); // this run's staging: the only one there
        Dataset<Row> outcomes = spark.read().schema(OUTCOME).parquet(stateRun.toString());

        // Sources this run replaced: their earlier rows are excluded by readers.
        String superseded = before == null ? null : before.storage().superseded();
        if (previous != null) {
            Dataset<Row> replaced = previous.filter(ok()).join(outcomes.select("source"), "source")
                    .select(col("source"), col("split"), col("run"), lit(run).as("byRun"));
            if (!replaced.isEmpty()) {
                replaced.write().mode(SaveMode.Append).parquet(new Path(out, DatasetStorage.SUPERSEDED).toString());
                superseded = DatasetStorage.SUPERSEDED;
            }
        }

        IngestReport report = report(spark, format, src, out, startedAt, t0, listedCount, listedCount - todoCount, outcomes);
        HadoopFs.writeStringAtomically(new Path(out, IngestReport.FILE_NAME), Json.pretty(report), conf);
        List<Long> runs = new ArrayList<>(committed);
        runs.add(run);
        DatasetStorage storage = new DatasetStorage(DatasetStorage.PARQUET, DatasetStorage.IMAGES, encoding, shardRows,
                shardMb, DatasetStorage.STATE, superseded, runs);
        List<String> classes = ImageIngest.classIndex(classIndex, before, trainClasses);
        DatasetDescriptor d = describe(spark, format, out, current(spark, out, runs), classes, s, src.toString(), storage, conf);
        log.printf("ingest: read %,d images: %,d ingested, %,d skipped (see %s) in %.1f s%n", report.read(),
                report.ingested(), report.skipped(), new Path(out, IngestReport.FILE_NAME), report.seconds());
        return new ImageIngest.Result(d, report, false, report.seconds());
    }

    /**
     * Rewrites this run's shards of {@code split} without images of classes outside {@code allowed}: only when the
     * train split's classes came out smaller than the other splits' (a class whose train images all failed to
     * decode, or archive entries of a class with no train images). Reads the shards, not the sources; the run is
     * not committed yet, so a crash here leaves nothing a reader sees.
     */
    private static void dropOtherClasses(SparkSession spark, Path out, String split, long run, Set<String> allowed,
                                         int shardRows, Path staging, Configuration conf) throws IOException {
        Path shards = new Path(out, DatasetStorage.IMAGES + "/split=" + split + "/run=" + run);
        Path kept = new Path(staging, "kept/split=" + split);
        spark.read().parquet(shards.toString()).filter(col("label").isin(allowed.toArray())).write()
                .option("maxRecordsPerFile", shardRows).option("compression", "zstd").parquet(kept.toString());
        FileSystem fs = HadoopFs.fs(shards, conf);
        fs.delete(shards, true);
        if (!fs.rename(kept, shards)) throw new IOException("could not move " + kept + " to " + shards);
    }

    /** Bytes one stored image takes: exact for raw square images; modelled for the rest (PNG ~ 60%, 4:3 photos). */
    static long storedBytesPerImage(IngestSettings s, String encoding) {
        double pixels = (double) s.size() * s.size() * (s.preparation().square() ? 1 : 4.0 / 3);
        return (long) Math.ceil(pixels * s.channels() * (DatasetStorage.RAW.equals(encoding) ? 1 : 0.6));
    }

    private static Column ok() {
        return col("reason").isNull().and(not(col("archive")));
    }

    /** Every source's latest outcome over the committed runs. */
    static Dataset<Row> current(SparkSession spark, Path out, List<Long> runs) {
        Dataset<Row> all = spark.read().parquet(new Path(out, DatasetStorage.STATE).toString())
                .filter(col("run").cast("long").isin(runs.toArray()));
        return all.withColumn("rn", row_number().over(Window.partitionBy("source").orderBy(col("run").desc())))
                .filter(col("rn").equalTo(1)).drop("rn");
    }

    /** Runs a crashed ingest wrote before its dataset.json: not part of the dataset; removed before this run writes. */
    static void removeUncommitted(Path out, List<Long> committed, Configuration conf) throws IOException {
        FileSystem fs = HadoopFs.fs(out, conf);
        List<Path> dirs = new ArrayList<>();
        Path state = new Path(out, DatasetStorage.STATE);
        if (fs.exists(state)) for (FileStatus st : fs.listStatus(state)) dirs.add(st.getPath());
        Path images = new Path(out, DatasetStorage.IMAGES);
        if (fs.exists(images)) {
            for (FileStatus split : fs.listStatus(images)) {
                if (split.isDirectory()) for (FileStatus st : fs.listStatus(split.getPath())) dirs.add(st.getPath());
            }
        }
        for (Path p : dirs) {
            String n = p.getName();
            if (n.startsWith("run=") && !committed.contains(Long.parseLong(n.substring(4)))) fs.delete(p, true);
        }
    }

    private static Iterator<Work.Item> items(Iterator<Row> rows) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public Work.Item next() {
                Row r = rows.next();
                List<String> prefix = r.isNullAt(5) ? null : List.copyOf(r.getList(5));
                return new Work.Item(r.getString(0), r.getLong(1), r.getLong(2), r.getString(3), r.getString(4), prefix);
            }
        };
    }

    static Row outcomeRow(Outcome o, String rootPath) {
        return RowFactory.create(o.source(), SourcePaths.relative(o.source(), rootPath), o.size(), o.mtime(), o.archive(),
                o.sha256(), o.path(), o.label(), o.split(), o.pixels(), o.sums(), o.reason());
    }

    static Row imageRow(IngestTask.Stored st, long run) {
        Outcome o = st.outcome();
        return RowFactory.create(o.path(), o.label(), o.source(), o.sha256(), st.image(), st.channels(), st.height(),
                st.width(), o.split(), run);
    }

    private static IngestReport report(SparkSession spark, String format, Path src, Path out, String startedAt, long t0,
                                       long listed, long unchanged, Dataset<Row> outcomes) {
        Dataset<Row> items = outcomes.filter(not(col("archive")));
        Row c = items.agg(count(lit(1)), sum(when(col("reason").isNull(), 1L).otherwise(0L))).first();
        long read = c.getLong(0), ingested = c.isNullAt(1) ? 0 : c.getLong(1);
        Dataset<Row> skipped = items.filter(col("reason").isNotNull()).select(col("source").as("path"), col("reason"));
        // Every skip, written by the executors; the report lists the first ones so it stays a small file.
        skipped.write().mode(SaveMode.Overwrite).json(new Path(out, IngestReport.SKIPPED_DIR).toString());
        List<IngestReport.Skip> first = new ArrayList<>();
        for (Row r : skipped.orderBy("path").limit(IngestReport.LISTED).collectAsList()) {
            first.add(new IngestReport.Skip(r.getString(0), r.getString(1)));
        }
        return new IngestReport(1, format, src.toString(), out.toString(), startedAt, Instant.now().toString(),
                (System.nanoTime() - t0) / 1e9, listed, unchanged, read, ingested, read - ingested, first, List.of(),
                IngestReport.SKIPPED_DIR);
    }

    /** dataset.json from aggregates of the current state: counts, train statistics and the content hash. */
    private static DatasetDescriptor describe(SparkSession spark, String format, Path out, Dataset<Row> current,
                                              List<String> classes, IngestSettings s, String source, DatasetStorage storage,
                                              Configuration conf) throws IOException {
        Dataset<Row> ok = current.filter(ok());
        Comparator<String> splitOrder = Comparator.comparingInt((String x) -> s.splits().contains(x)
                ? s.splits().indexOf(x) : Integer.MAX_VALUE).thenComparing(x -> x);
        Map<String, Long> splits = new TreeMap<>(splitOrder);
        Map<String, Map<String, Long>> classCounts = new TreeMap<>(splitOrder);
        for (Row r : ok.groupBy("split", "label").count().collectAsList()) {
            String split = r.getString(0);
            splits.merge(split, r.getLong(2), Long::sum);
            classCounts.computeIfAbsent(split, k -> {
                Map<String, Long> m = new LinkedHashMap<>();
                for (String cl : classes) m.put(cl, 0L);
                return m;
            }).merge(r.getString(1), r.getLong(2), Long::sum);
        }
        int ch = s.channels();
        Column[] aggs = new Column[2 * ch + 1];
        aggs[0] = sum("pixels");
        for (int i = 0; i < 2 * ch; i++) aggs[i + 1] = sum(col("sums").getItem(i));
        Row st = ok.filter(col("split").equalTo(s.splits().get(0))).agg(aggs[0], java.util.Arrays.copyOfRange(aggs, 1, aggs.length)).first();
        long pixels = st.isNullAt(0) ? 0 : st.getLong(0);
        double[] mean = new double[ch], std = new double[ch];
        for (int c = 0; c < ch; c++) {
            double sm = st.isNullAt(1 + c) ? 0 : st.getDouble(1 + c), sq = st.isNullAt(1 + ch + c) ? 0 : st.getDouble(1 + ch + c);
            mean[c] = pixels == 0 ? 0 : sm / pixels;
            std[c] = pixels == 0 ? 1 : Math.sqrt(Math.max(0, sq / pixels - mean[c] * mean[c]));
        }
        String name = new Path(source).getName();
        return DatasetWriter.writeSharded(out, new DatasetWriter.Description(name.isEmpty() ? "images" : name, format)
                .classes(classes).geometry(ch, s.size(), s.size()).counts(splits, classCounts).normalisation(mean, std)
                .source(source, bucketHash(ok, "relSource", "sha256")).ingestFiles(null, IngestReport.FILE_NAME)
                .splitFractions(s.splitFractions().asMap()).preparation(s.preparation()).storage(storage),
                bucketHash(ok, "path", "label", "split"), conf);
    }

    /**
     * sha256 over one line per ingested image, the given columns joined by spaces, in 256 buckets by a hash of the
     * first column; each bucket's sorted lines are hashed on an executor, the bucket hashes on the driver, so no
     * per-image list reaches it. The content hash takes (relSource, sha256): store-independent names and the source
     * bytes' hashes, so the same images on file://, hdfs:// or s3a:// give the same value; the manifest hash takes
     * (path, label, split), what a manifest.csv would list.
     */
    static String bucketHash(Dataset<Row> ok, String... columns) {
        Column[] parts = new Column[columns.length];
        for (int i = 0; i < columns.length; i++) parts[i] = col(columns[i]);
        Dataset<Row> buckets = ok.select(pmod(xxhash64(col(columns[0])), lit(HASH_BUCKETS)).as("bucket"),
                        concat_ws(" ", parts).as("line"))
                .groupBy("bucket").agg(sha2(concat_ws("\n", sort_array(collect_list("line"))), 256).as("h"))
                .orderBy("bucket");
        MessageDigest md = Hashing.sha256();
        for (Row r : buckets.collectAsList()) md.update((((Number) r.get(0)).longValue() + " " + r.getString(1) + "\n").getBytes(StandardCharsets.UTF_8));
        return Hashing.hex(md);
    }

}
