package io.sparkvision.data;

import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.ingest.ManifestCsv;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.SerializableHadoopConf;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads one split of an ingested dataset as its stored images, on the executors: the one place that knows how a
 * dataset lays its images out in storage. {@link ImageDataset} decodes and prepares what this gives.
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
}
