package io.sparkvision.ingest;

import io.sparkvision.image.ImagePreparer;
import io.sparkvision.image.Pixels;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.SerializableHadoopConf;
import io.sparkvision.util.Hashing;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;

/**
 * Converts a dataset of the png-files layout (one PNG per image, manifest.csv) into Parquet shards, the executors
 * reading and writing in parallel: {@code scripts/sparkvision convert-dataset --data OLD --to NEW}. The images are the
 * ones already prepared (their pixels do not change); classes, counts, statistics, preparation and content hash
 * are kept; sources.jsonl, when there is one, becomes the ingest state, so incremental ingest continues into NEW.
 */
public final class DatasetConverter {
    private DatasetConverter() {
    }

    public static DatasetDescriptor convert(JavaSparkContext sc, String from, String to, String encoding, int shardMb,
                                            PrintStream log) throws IOException {
        long t0 = System.nanoTime();
        Configuration conf = sc.hadoopConfiguration();
        Path src = HadoopFs.path(from), out = HadoopFs.path(to);
        Path descriptorPath = new Path(src, DatasetDescriptor.FILE_NAME);
        if (!HadoopFs.exists(descriptorPath, conf)) {
            throw new IllegalArgumentException(from + " holds no dataset.json: give the root of an ingested dataset");
        }
        DatasetDescriptor d = Json.read(HadoopFs.readString(descriptorPath, conf), DatasetDescriptor.class);
        if (d.sharded()) throw new IllegalArgumentException(from + " is already stored as Parquet shards; nothing to convert");
        if (HadoopFs.exists(new Path(out, DatasetDescriptor.FILE_NAME), conf)) {
            throw new IllegalArgumentException(to + " already holds a dataset; give an empty or new folder");
        }
        if (!DatasetStorage.RAW.equals(encoding) && !DatasetStorage.PNG.equals(encoding)) {
            throw new IllegalArgumentException("encoding " + encoding + ": expected raw or png");
        }
        long bytesPerImage = (long) d.channels() * d.height() * d.width() * (DatasetStorage.RAW.equals(encoding) ? 10 : 6) / 10;
        int shardRows = DatasetStorage.rowsPerShard(shardMb, bytesPerImage);
        long run = System.currentTimeMillis();
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        SerializableHadoopConf shc = new SerializableHadoopConf(conf);
        String srcUri = src.toString();
        int channels = d.channels();

        boolean hasSources = d.sources() != null && HadoopFs.exists(new Path(src, d.sources()), conf);
        String rootPath = !hasSources || d.source() == null ? "" : SourcePaths.rootPath(HadoopFs.fs(HadoopFs.path(d.source()), conf)
                .makeQualified(sourceRoot(d, conf)));
        JavaRDD<String> manifest = sc.textFile(new Path(src, d.manifest()).toString()).filter(l -> !ManifestCsv.isHeader(l));
        JavaRDD<Row> images = manifest.mapPartitions(it -> {
            List<Row> rows = new java.util.ArrayList<>();
            while (it.hasNext()) {
                ManifestCsv.Row r = ManifestCsv.row(it.next());
                Path p = new Path(srcUri, r.path());
                byte[] file = HadoopFs.readAll(p, shc.get());
                byte[] image = file;
                int c = 0, h = 0, w = 0;
                if (DatasetStorage.RAW.equals(encoding)) {
                    Pixels px = asStored(file, channels, p);
                    image = IngestTask.channelMajor(px);
                    c = px.channels();
                    h = px.height();
                    w = px.width();
                }
                rows.add(RowFactory.create(r.path(), r.label(), p.toString(), Hashing.sha256(file), image, c, h, w, r.split(), run));
            }
            return rows.iterator();
        });
        long n = d.splits().values().stream().mapToLong(Long::longValue).sum();
        int tasks = (int) Math.max(1, Math.max(Math.min(sc.defaultParallelism(), n), (n + shardRows - 1) / shardRows));

        // The ingest state: from sources.jsonl when there is one (incremental ingest then continues), else empty.
        Path stateRun = new Path(out, DatasetStorage.STATE + "/run=" + run);
        JavaRDD<Row> state = hasSources
                ? sc.textFile(new Path(src, d.sources()).toString()).filter(l -> !l.isBlank())
                .map(l -> ShardIngest.outcomeRow(Json.read(l, Outcome.class), rootPath))
                : sc.emptyRDD();
        spark.createDataFrame(state, ShardIngest.OUTCOME).write().mode(SaveMode.ErrorIfExists).parquet(stateRun.toString());

        // Shard rows name the original source file and its hash where the state records them (as ingest writes them).
        Dataset<Row> origin = spark.read().schema(ShardIngest.OUTCOME).parquet(stateRun.toString())
                .filter(col("path").isNotNull()).select(col("path").as("opath"), col("source").as("osource"), col("sha256").as("osha"));
        Dataset<Row> rows = spark.createDataFrame(images, ShardIngest.IMAGE);
        rows = rows.join(origin, rows.col("path").equalTo(origin.col("opath")), "left")
                .withColumn("source", coalesce(col("osource"), col("source")))
                .withColumn("sha256", coalesce(col("osha"), col("sha256")))
                .select(ShardIngest.IMAGE.fieldNames()[0], java.util.Arrays.copyOfRange(ShardIngest.IMAGE.fieldNames(), 1,
                        ShardIngest.IMAGE.fieldNames().length));
        rows.repartition(tasks).write().mode(SaveMode.ErrorIfExists)
                .partitionBy("split", "run").option("maxRecordsPerFile", shardRows).option("compression", "zstd")
                .parquet(new Path(out, DatasetStorage.IMAGES).toString());

        DatasetStorage storage = new DatasetStorage(DatasetStorage.PARQUET, DatasetStorage.IMAGES, encoding, shardRows,
                shardMb, DatasetStorage.STATE, null, List.of(run));
        DatasetDescriptor converted = new DatasetDescriptor(d.formatVersion(), d.name(), d.classes(), d.channels(), d.height(),
                d.width(), d.splits(), d.classCounts(), d.mean(), d.std(), d.source(), d.contentHash(), null, d.manifestHash(),
                d.ingestedAt(), d.ingestFormat(), null, null, d.splitFractions(),
                d.preparation(), storage);
        HadoopFs.writeStringAtomically(new Path(out, DatasetDescriptor.FILE_NAME), Json.pretty(converted), conf);
        log.printf("convert-dataset: %,d images of %s -> %s as %s Parquet shards of at most %,d rows in %.1f s%n", n, from, to,
                encoding, shardRows, (System.nanoTime() - t0) / 1e9);
        return converted;
    }

    /**
     * A dataset PNG's pixels as they are (no resize), in the dataset's channels: the conversion the train job applied
     * to these files (raster copy, no colour management), so training sees the same pixels before and after.
     */
    static Pixels asStored(byte[] png, int channels, Path where) throws IOException {
        try {
            return ImagePreparer.asStored(png, channels);
        } catch (ImagePreparer.Unpreparable e) {
            throw new IOException(where + ": " + e.getMessage() + "; the dataset is damaged, re-run ingest", e);
        }
    }

    /** The folder names are relative to: the ingested folder, or the manifest CSV's folder. */
    private static Path sourceRoot(DatasetDescriptor d, Configuration conf) {
        Path p = HadoopFs.path(d.source());
        return "manifest".equals(d.ingestFormat()) ? p.getParent() : p;
    }
}
