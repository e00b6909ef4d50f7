package io.sparkvision.data;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.SerializableHadoopConf;
import io.sparkvision.model.InputShape;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * One split of an ingested dataset as a Spark RDD of decoded examples. The manifest is the source of truth:
 * executors read and decode the files it lists; a label missing from the class index fails the load with
 * the file's path.
 */
public final class ImageDataset {
    private final DatasetDescriptor descriptor;
    private final JavaRDD<Example> examples;
    private final long count;

    private ImageDataset(DatasetDescriptor descriptor, JavaRDD<Example> examples, long count) {
        this.descriptor = descriptor;
        this.examples = examples;
        this.count = count;
    }

    /** Decodes {@code split} once and keeps it in executor memory for the epochs to come. */
    public static ImageDataset load(JavaSparkContext sc, String root, DatasetDescriptor d, String split, int partitions, int limit) {
        if (d.count(split) == 0) {
            throw new IllegalArgumentException("dataset " + root + " has no '" + split + "' split; it has " + d.splits().keySet());
        }
        String rootUri = HadoopFs.path(root).toString();
        String manifest = new Path(rootUri, d.manifest()).toString();
        InputShape shape = new InputShape(d.channels(), d.height(), d.width());
        List<String> classes = d.classes();
        double[] mean = d.mean(), std = d.std();
        SerializableHadoopConf conf = new SerializableHadoopConf(sc.hadoopConfiguration());

        JavaRDD<String> rows = sc.textFile(manifest)
                .filter(line -> !line.startsWith("path,") && line.endsWith("," + split));
        if (limit > 0) rows = rows.zipWithIndex().filter(t -> t._2() < limit).map(t -> t._1());
        JavaRDD<Example> examples = rows.repartition(partitions).mapPartitions(it -> {
            FileSystem fs = HadoopFs.fs(new Path(rootUri), conf.get());
            List<Example> out = new ArrayList<>();
            while (it.hasNext()) {
                String[] f = it.next().split(",");
                Path p = new Path(rootUri, f[0]);
                int label = classes.indexOf(f[1]);
                if (label < 0) {
                    throw new IllegalArgumentException(manifest + ": " + f[0] + " has label '" + f[1]
                            + "', which is not in the dataset's class index " + classes + "; re-run ingest");
                }
                try {
                    byte[] bytes;
                    try (var in = fs.open(p)) {
                        bytes = in.readAllBytes();
                    }
                    out.add(new Example(ImageCodec.decode(bytes, p.toString(), shape, mean, std), label));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
                }
            }
            return out.iterator();
        }).persist(StorageLevel.MEMORY_ONLY());
        long count = examples.count();
        return new ImageDataset(d, examples, count);
    }

    public long count() {
        return count;
    }

    public DatasetDescriptor descriptor() {
        return descriptor;
    }

    public InputShape shape() {
        return new InputShape(descriptor.channels(), descriptor.height(), descriptor.width());
    }

    /**
     * The minibatches of one epoch: each partition's examples in an order fixed by (seed, epoch, partition), so
     * a rerun or a resumed run sees the same batches.
     */
    public JavaRDD<DataSet> epochBatches(long seed, int epoch, int batchSize) {
        InputShape shape = shape();
        int classes = descriptor.classes().size();
        return examples.mapPartitionsWithIndex((idx, it) -> {
            List<Example> all = new ArrayList<>();
            it.forEachRemaining(all::add);
            Collections.shuffle(all, new Random(seed * 1_000_003L + epoch * 7919L + idx));
            return Batches.batch(all.iterator(), batchSize, shape, classes);
        }, true);
    }

    /** Minibatches in a fixed order, for evaluation. */
    public JavaRDD<DataSet> batches(int batchSize) {
        InputShape shape = shape();
        int classes = descriptor.classes().size();
        return examples.mapPartitions(it -> Batches.batch(it, batchSize, shape, classes));
    }

    public void release() {
        examples.unpersist(false);
    }
}
