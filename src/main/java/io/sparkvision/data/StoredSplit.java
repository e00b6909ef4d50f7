package io.sparkvision.data;

import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.ingest.DatasetStorage;
import io.sparkvision.ingest.ManifestCsv;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.SerializableHadoopConf;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;

/**
 * Reads one split of an ingested dataset as its stored images, on the executors: the one place that knows how a
 * dataset lays its images out in storage. {@link ImageDataset} decodes and prepares what this gives. Two layouts
 * (docs/dataset-format.md): Parquet shards ({@link DatasetDescriptor#sharded()}: raw uint8 channel-major or PNG rows)
 * and the earlier one file per image listed in manifest.csv, which is still read as it was.
 */
public final class StoredSplit {
    private StoredSplit() {
    }

    /**
     * The split's images in {@code partitions} partitions; {@code limit > 0} keeps the first {@code limit}. A label
     * missing from the class index fails the read with the file's path.
     */
    public static JavaRDD<StoredImage> read(JavaSparkContext sc, String root, DatasetDescriptor d, String split,
                                            int partitions, int limit) {
        if (d.count(split) == 0) {
            throw new IllegalArgumentException("dataset " + root + " has no '" + split + "' split; it has " + d.splits().keySet());
        }
        String rootUri = HadoopFs.path(root).toString();
        if (d.sharded()) return shards(sc, rootUri, d, split, partitions, limit);
        String manifest = new Path(rootUri, d.manifest()).toString();
        List<String> classes = d.classes();
        SerializableHadoopConf conf = new SerializableHadoopConf(sc.hadoopConfiguration());

        JavaRDD<ManifestCsv.Row> rows = sc.textFile(manifest).filter(line -> !ManifestCsv.isHeader(line))
                .map(ManifestCsv::row).filter(r -> split.equals(r.split()));
        if (limit > 0) rows = rows.zipWithIndex().filter(t -> t._2() < limit).map(t -> t._1());
        return rows.repartition(partitions).mapPartitions(it -> {
            List<StoredImage> out = new ArrayList<>();
            while (it.hasNext()) {
                ManifestCsv.Row r = it.next();
                Path p = new Path(rootUri, r.path());
                int label = classes.indexOf(r.label());
                if (label < 0) {
                    throw new IllegalArgumentException(manifest + ": " + r.path() + " has label '" + r.label()
                            + "', which is not in the dataset's class index " + classes + "; re-run ingest");
                }
                try {
                    // Per path: a retrain window lists images of two datasets, possibly on two file systems.
                    FileSystem fs = HadoopFs.fs(p, conf.get());
                    try (var in = fs.open(p)) {
                        out.add(StoredImage.encoded(p.toString(), label, in.readAllBytes()));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
                }
            }
            return out.iterator();
        });
    }

    /**
     * A sharded split's rows as stored (columns path, label, source, sha256, image, channels, height, width, run): the
     * committed runs' shards, less the rows a later run superseded. Lazy; Parquet reads only the columns used.
     */
    public static Dataset<Row> rows(SparkSession spark, String rootUri, DatasetDescriptor d, String split) {
        DatasetStorage st = d.storage();
        Object[] runs = st.runs().toArray();
        Dataset<Row> rows = spark.read().parquet(new Path(rootUri, st.images() + "/split=" + split).toString())
                .filter(col("run").cast("long").isin(runs));
        if (st.superseded() != null) {
            Dataset<Row> gone = spark.read().parquet(new Path(rootUri, st.superseded()).toString())
                    .filter(col("split").equalTo(split).and(col("byRun").isin(runs))).select(col("source"), col("run").cast("long").as("run"));
            rows = rows.join(broadcast(gone), rows.col("source").equalTo(gone.col("source"))
                    .and(rows.col("run").cast("long").equalTo(gone.col("run"))), "left_anti");
        }
        return rows;
    }

    /** The committed runs' shards of the split, less the rows a later run superseded. */
    private static JavaRDD<StoredImage> shards(JavaSparkContext sc, String rootUri, DatasetDescriptor d, String split,
                                               int partitions, int limit) {
        DatasetStorage st = d.storage();
        SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
        Dataset<Row> rows = rows(spark, rootUri, d, split).select("path", "label", "image", "channels", "height", "width");
        // The first `limit` by path, as the png-files layout's manifest order gives them: a bare limit() takes whichever
        // rows a read returns first, so the train job and a later read of the same split saw different images.
        if (limit > 0) rows = rows.orderBy("path").limit(limit);
        List<String> classes = d.classes();
        String where = rootUri + "/" + st.images() + "/split=" + split;
        return rows.javaRDD().repartition(partitions).map(r -> {
            String path = r.getString(0);
            int label = classes.indexOf(r.getString(1));
            if (label < 0) {
                throw new IllegalArgumentException(where + ": " + path + " has label '" + r.getString(1)
                        + "', which is not in the dataset's class index " + classes + "; re-run ingest");
            }
            byte[] bytes = r.getAs(2);
            int h = r.getInt(4);
            return h > 0 ? StoredImage.raw(path, label, bytes, r.getInt(3), h, r.getInt(5)) : StoredImage.encoded(path, label, bytes);
        });
    }
}
