package io.sparkvision.retrain;

import io.sparkvision.data.StoredSplit;
import io.sparkvision.image.Crops;
import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.Pixels;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.ingest.DatasetStorage;
import io.sparkvision.ingest.DatasetWriter;
import io.sparkvision.ingest.ImageIngest;
import io.sparkvision.ingest.ManifestCsv;
import io.sparkvision.ingest.Outcome;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.SerializableHadoopConf;
import io.sparkvision.util.Hashing;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

/**
 * The training window of a night whose nightly dataset or holdout is stored as Parquet shards: a Spark job selects
 * the nightly dataset's committed train rows whose landing partition is in the window, anti-joins the holdout's
 * sha256 values, and COPIES the selected rows and the holdout split into the candidate's {@code data/} as a sharded
 * dataset of its own (splits {@code train} and {@code holdout}). The candidate then records exactly which images
 * trained it, immutably, whatever later ingests do to the nightly dataset. Nothing per image reaches the driver:
 * counts are aggregates, the content hash is fed from a sorted iterator one partition at a time.
 * A png-files nightly dataset or holdout taking part is read from its files (its rows become shard rows); the rules
 * (which images are in, which excluded and why, the content hash) are {@link TrainingWindow#write}'s.
 */
public final class ShardedWindow {
    /** Shard row columns, as ingest writes them (docs/dataset-format.md), less the split and run folders. */
    static final String[] IMAGE_COLUMNS = {"path", "label", "source", "sha256", "image", "channels", "height", "width"};
    private static final StructType META = new StructType().add("path", DataTypes.StringType)
            .add("label", DataTypes.StringType).add("source", DataTypes.StringType).add("sha256", DataTypes.StringType);
    private static final StructType IMAGE = META.add("image", DataTypes.BinaryType).add("channels", DataTypes.IntegerType)
            .add("height", DataTypes.IntegerType).add("width", DataTypes.IntegerType);
    private static final StructType DATES = new StructType().add("dsource", DataTypes.StringType, false)
            .add("ddate", DataTypes.StringType, false);

    private ShardedWindow() {
    }

    /** One dataset taking part: its root, descriptor and the split read from it. */
    public record Part(Path root, DatasetDescriptor descriptor, String split) {
        String uri() {
            return root.toString();
        }
    }

    /**
     * Writes the window into {@code out} (replacing what a crashed run of the night left there) and returns what it
     * holds. The rules are {@link TrainingWindow#write}'s: train rows of the nightly dataset, undated ones counted and
     * never trained, rows dated outside (night - days, night] left out, copies of a holdout image (same sha256 of
     * the source bytes) counted and left out.
     *
     * @param dates partition date of each source URI (manifest landing), or null to read it from the URI
     */
    public static TrainingWindow.Summary write(JavaSparkContext sc, Part nightly, Part holdout, LocalDate night, int days,
                                               Map<String, LocalDate> dates, double[] mean, double[] std, Path out)
            throws IOException {
        Configuration conf = sc.hadoopConfiguration();
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        DatasetDescriptor hd = holdout.descriptor();
        String encoding = nightly.descriptor().sharded() ? nightly.descriptor().storage().encoding() : hd.storage().encoding();

        // Which nightly train rows are in: dated, in the window, not a holdout copy.
        Dataset<Row> rows = nightly.descriptor().count(nightly.split()) == 0 ? spark.createDataFrame(List.of(), IMAGE)
                : nightly.descriptor().sharded() ? StoredSplit.rows(spark, nightly.uri(), nightly.descriptor(), nightly.split())
                : outcomes(sc, spark, nightly.root(), nightly.descriptor(), nightly.split());
        Dataset<Row> dated = dates == null ? rows.withColumn("date", udf((UDF1<String, String>) ShardedWindow::dateOf,
                DataTypes.StringType).apply(col("source"))) : withDates(spark, rows, dates);
        Dataset<Row> holdoutShas = holdoutHashes(sc, spark, holdout).distinct().withColumnRenamed("sha256", "hsha");
        Dataset<Row> classified = dated.join(holdoutShas, dated.col("sha256").equalTo(holdoutShas.col("hsha")), "left")
                .withColumn("copy", col("hsha").isNotNull());
        Column inWindow = col("date").isNotNull().and(col("date").leq(lit(night.toString())));
        if (days > 0) inWindow = inWindow.and(col("date").gt(lit(night.minusDays(days).toString())));
        Row counts = classified.agg(sum(when(col("date").isNull(), 1L).otherwise(0L)),
                sum(when(inWindow.and(col("copy")), 1L).otherwise(0L))).first();
        long undated = counts.isNullAt(0) ? 0 : counts.getLong(0);
        long holdoutCopies = counts.isNullAt(1) ? 0 : counts.getLong(1); // would flatter the candidate in the very comparison
        Dataset<Row> selected = classified.filter(inWindow.and(col("copy").equalTo(false)));
        TreeSet<String> partitions = new TreeSet<>();
        for (Row r : selected.select("date").distinct().collectAsList()) partitions.add("date=" + r.getString(0));

        // The window's rows, copied: train from the nightly dataset, holdout from the holdout.
        Dataset<Row> train = nightly.descriptor().sharded()
                ? convert(spark, selected.select(cols(IMAGE_COLUMNS)), nightly.descriptor().storage().encoding(), encoding, hd.channels())
                : convert(spark, readFiles(spark, selected.select(cols(META.fieldNames())), nightly.uri()), DatasetStorage.PNG, encoding, hd.channels());
        Dataset<Row> held = hd.sharded()
                ? convert(spark, StoredSplit.rows(spark, holdout.uri(), hd, holdout.split()).select(cols(IMAGE_COLUMNS)),
                hd.storage().encoding(), encoding, hd.channels())
                : convert(spark, readFiles(spark, manifestRows(sc, spark, holdout), holdout.uri()), DatasetStorage.PNG, encoding, hd.channels());
        long run = System.currentTimeMillis();
        long bytesPerImage = (long) hd.channels() * hd.height() * hd.width() * (DatasetStorage.RAW.equals(encoding) ? 10 : 6) / 10;
        int shardMb = nightly.descriptor().sharded() ? nightly.descriptor().storage().shardMb() : hd.storage().shardMb();
        int shardRows = DatasetStorage.rowsPerShard(shardMb, bytesPerImage);
        HadoopFs.fs(out, conf).delete(out, true); // a crashed run's window is cut again from tonight's data
        Path images = new Path(out, DatasetStorage.IMAGES);
        train.withColumn("split", lit(TrainingWindow.TRAIN))
                .unionByName(held.withColumn("split", lit(TrainingWindow.HOLDOUT)))
                .withColumn("run", lit(run))
                .write().mode(SaveMode.ErrorIfExists).partitionBy("split", "run").option("maxRecordsPerFile", shardRows)
                .option("compression", "zstd").parquet(images.toString());

        // What was written, from the written rows: counts per split and class, and the hashes.
        Dataset<Row> written = spark.read().parquet(images.toString());
        Map<String, Map<String, Long>> classCounts = new TreeMap<>();
        for (String split : List.of(TrainingWindow.TRAIN, TrainingWindow.HOLDOUT)) {
            Map<String, Long> perClass = new LinkedHashMap<>();
            for (String c : hd.classes()) perClass.put(c, 0L);
            classCounts.put(split, perClass);
        }
        for (Row r : written.groupBy("split", "label").count().collectAsList()) {
            classCounts.get(r.getString(0)).merge(r.getString(1), r.getLong(2), Long::sum);
        }
        long imagesIn = classCounts.get(TrainingWindow.TRAIN).values().stream().mapToLong(Long::longValue).sum();
        long holdoutImages = classCounts.get(TrainingWindow.HOLDOUT).values().stream().mapToLong(Long::longValue).sum();
        Map<String, Long> splits = new LinkedHashMap<>();
        splits.put(TrainingWindow.TRAIN, imagesIn);
        splits.put(TrainingWindow.HOLDOUT, holdoutImages);
        // TrainingWindow's content hash: "source sha256\n" of each training image, by source.
        String contentHash = sortedHash(written.filter(col("split").equalTo(TrainingWindow.TRAIN)).select("source", "sha256")
                .orderBy("source"));
        // What a manifest.csv of the window would list, by path: recorded as its manifest hash.
        String rowsHash = sortedHash(written.select("path", "label", "split").orderBy("path", "split"));

        DatasetStorage storage = new DatasetStorage(DatasetStorage.PARQUET, DatasetStorage.IMAGES, encoding, shardRows,
                shardMb, null, null, List.of(run));
        LocalDate from = days == 0 ? null : night.minusDays(days - 1L);
        DatasetDescriptor d = DatasetWriter.writeSharded(out, new DatasetWriter.Description("window "
                + (from == null ? "" : from + " ") + "to " + night, "retrain-window").classes(hd.classes())
                .geometry(hd.channels(), hd.height(), hd.width()).counts(splits, classCounts).normalisation(mean, std)
                .source(nightly.descriptor().source(), contentHash).preparation(hd.preparation()).storage(storage), rowsHash, conf);
        return new TrainingWindow.Summary(from, night, List.copyOf(partitions), imagesIn, undated, holdoutCopies,
                holdoutImages, contentHash, d);
    }

    /**
     * The training rows of a sharded window (source, sha256, label), or null when {@code window} holds no sharded
     * window (none yet, or one of the manifest kind).
     */
    static Dataset<Row> trainKeys(SparkSession spark, Path window, Configuration conf) throws IOException {
        Path descriptor = new Path(window, DatasetDescriptor.FILE_NAME);
        if (!HadoopFs.exists(descriptor, conf)) return null;
        DatasetDescriptor d = Json.read(HadoopFs.readString(descriptor, conf), DatasetDescriptor.class);
        if (!d.sharded()) return null;
        if (d.count(TrainingWindow.TRAIN) == 0) return spark.createDataFrame(List.of(), META).select("source", "sha256", "label");
        return StoredSplit.rows(spark, window.toString(), d, TrainingWindow.TRAIN).select("source", "sha256", "label");
    }

    /** The partition date of a source URI as text (YYYY-MM-DD, so dates compare as strings), or null. */
    private static String dateOf(String source) {
        LocalDate d = source == null ? null : TrainingWindow.dateOf(source);
        return d == null ? null : d.toString();
    }

    /** Manifest landing: each image's date is its manifest's partition (the map LandingManifests built). */
    private static Dataset<Row> withDates(SparkSession spark, Dataset<Row> rows, Map<String, LocalDate> dates) {
        List<Row> d = new ArrayList<>(dates.size());
        for (Map.Entry<String, LocalDate> e : dates.entrySet()) d.add(RowFactory.create(e.getKey(), e.getValue().toString()));
        Dataset<Row> byUri = spark.createDataFrame(d, DATES);
        return rows.join(byUri, rows.col("source").equalTo(byUri.col("dsource")), "left").withColumnRenamed("ddate", "date")
                .drop("dsource");
    }

    /** A png-files dataset's ingested images of one split, from its sources.jsonl: path, label, source, sha256. */
    private static Dataset<Row> outcomes(JavaSparkContext sc, SparkSession spark, Path root, DatasetDescriptor d, String split) {
        Path sources = new Path(root, d.sources() == null ? ImageIngest.SOURCES : d.sources());
        return spark.createDataFrame(sc.textFile(sources.toString()).filter(l -> !l.isBlank()).map(l -> Json.read(l, Outcome.class))
                .filter(o -> o.ok() && split.equals(o.split()))
                .map(o -> RowFactory.create(o.path(), o.label(), o.source(), o.sha256())), META);
    }

    /**
     * The holdout's sha256 values as the ingest hashes sources (as {@link TrainingWindow#holdoutHashes}): the shard
     * rows' column, or a png-files holdout's sources.jsonl, or, without one, the hashes of its stored files.
     */
    private static Dataset<Row> holdoutHashes(JavaSparkContext sc, SparkSession spark, Part holdout) throws IOException {
        DatasetDescriptor d = holdout.descriptor();
        if (d.sharded()) return StoredSplit.rows(spark, holdout.uri(), d, holdout.split()).select("sha256");
        if (hasSources(holdout, sc.hadoopConfiguration())) {
            return outcomes(sc, spark, holdout.root(), d, holdout.split()).select("sha256");
        }
        return readFiles(spark, manifestRows(sc, spark, holdout), holdout.uri()).select("sha256");
    }

    private static boolean hasSources(Part p, Configuration conf) {
        return p.descriptor().sources() != null && HadoopFs.exists(new Path(p.root(), p.descriptor().sources()), conf);
    }

    /**
     * A png-files holdout's split from its manifest (path, label, source, sha256): source and sha256 from its
     * sources.jsonl where it has one, else the stored file's URI and (null: hashed when read) its hash.
     */
    private static Dataset<Row> manifestRows(JavaSparkContext sc, SparkSession spark, Part p) {
        String split = p.split(), rootUri = p.uri();
        Dataset<Row> listed = spark.createDataFrame(sc.textFile(new Path(p.root(), p.descriptor().manifest()).toString())
                .filter(l -> !ManifestCsv.isHeader(l)).map(ManifestCsv::row).filter(r -> split.equals(r.split()))
                .map(r -> RowFactory.create(r.path(), r.label(), new Path(rootUri, r.path()).toString(), null)), META);
        if (!hasSources(p, sc.hadoopConfiguration())) return listed;
        Dataset<Row> origin = outcomes(sc, spark, p.root(), p.descriptor(), split)
                .select(col("path").as("opath"), col("source").as("osource"), col("sha256").as("osha"));
        return listed.join(origin, listed.col("path").equalTo(origin.col("opath")), "left")
                .select(col("path"), col("label"), org.apache.spark.sql.functions.coalesce(col("osource"), col("source")).as("source"),
                        col("osha").as("sha256"));
    }

    /** Rows (path, label, source, sha256) of a png-files dataset with their files' bytes: PNG rows (geometry 0). */
    private static Dataset<Row> readFiles(SparkSession spark, Dataset<Row> meta, String rootUri) {
        SerializableHadoopConf shc = new SerializableHadoopConf(spark.sparkContext().hadoopConfiguration());
        return spark.createDataFrame(meta.javaRDD().map(r -> {
            Path p = new Path(rootUri, r.getString(0));
            byte[] png = HadoopFs.readAll(p, shc.get()); // per path: the nightly images and holdout may be on two stores
            String sha = r.isNullAt(3) ? Hashing.sha256(png) : r.getString(3);
            return RowFactory.create(r.getString(0), r.getString(1), r.getString(2), sha, png, 0, 0, 0);
        }), IMAGE);
    }

    /**
     * Rows of image columns re-encoded to the window's encoding where they differ (a raw window with a png-files
     * holdout, say): raw rows are channel-major uint8 pixels, PNG rows the file; the pixels do not change.
     */
    private static Dataset<Row> convert(SparkSession spark, Dataset<Row> rows, String from, String to, int channels) {
        if (from.equals(to)) return rows;
        boolean toRaw = DatasetStorage.RAW.equals(to);
        return spark.createDataFrame(rows.javaRDD().map(r -> {
            byte[] image = r.getAs(4);
            int c, h, w;
            byte[] converted;
            if (toRaw) {
                Pixels px = ImagePreparer.asStored(image, channels);
                converted = Crops.channelMajor(px);
                c = px.channels();
                h = px.height();
                w = px.width();
            } else {
                converted = interleaved(image, r.getInt(5), r.getInt(6), r.getInt(7)).png();
                c = h = w = 0;
            }
            return RowFactory.create(r.getString(0), r.getString(1), r.getString(2), r.getString(3), converted, c, h, w);
        }), IMAGE);
    }

    /** Channel-major bytes back to interleaved pixels (the inverse of {@link Crops#channelMajor}). */
    static Pixels interleaved(byte[] chw, int channels, int height, int width) {
        int hw = height * width;
        byte[] out = new byte[chw.length];
        for (int i = 0, j = 0; i < hw; i++) {
            for (int k = 0; k < channels; k++) out[j++] = chw[k * hw + i];
        }
        return new Pixels(width, height, channels, out);
    }

    /** sha256 over the rows' columns joined by spaces, one line each, in the rows' order, one partition at a time. */
    private static String sortedHash(Dataset<Row> ordered) {
        MessageDigest md = Hashing.sha256();
        Iterator<Row> it = ordered.toLocalIterator();
        StringBuilder line = new StringBuilder();
        while (it.hasNext()) {
            Row r = it.next();
            line.setLength(0);
            for (int i = 0; i < r.length(); i++) line.append(i == 0 ? "" : " ").append(r.getString(i));
            md.update(line.append('\n').toString().getBytes(StandardCharsets.UTF_8));
        }
        return Hashing.hex(md);
    }

    private static Column[] cols(String... names) {
        Column[] c = new Column[names.length];
        for (int i = 0; i < names.length; i++) c[i] = col(names[i]);
        return c;
    }
}
