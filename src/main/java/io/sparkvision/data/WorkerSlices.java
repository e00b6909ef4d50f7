package io.sparkvision.data;

import org.apache.spark.Partition;
import org.apache.spark.rdd.PartitionCoalescer;
import org.apache.spark.rdd.PartitionGroup;
import org.apache.spark.rdd.RDD;
import org.apache.spark.scheduler.TaskLocation;
import scala.Option;
import scala.collection.Seq;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Groups a cached RDD's partitions into one partition per worker without a shuffle: worker w reads cache partitions
 * [w*k, (w+1)*k), always the same ones (so its share, and the minibatches per epoch, never change), in an order
 * drawn per epoch from {@code seeds[w]}. Spark's own coalescing groups by block location, which can differ between
 * runs; this does not, so a rerun or a resumed run sees the same batches. The cache is held in several blocks per
 * worker so that no single block has to be unrolled whole in an executor's memory ({@link ImageDataset}).
 * {@code scala.Serializable}: Spark 3.5 on Scala 2.12 checks for that trait, not java.io.Serializable.
 */
final class WorkerSlices implements PartitionCoalescer, scala.Serializable {
    private static final long serialVersionUID = 1L;
    private final int perWorker;
    private final long[] seeds;

    /** @param seeds one per worker: the order of its k cache partitions this epoch */
    WorkerSlices(int perWorker, long[] seeds) {
        this.perWorker = perWorker;
        this.seeds = seeds.clone();
    }

    @Override
    public PartitionGroup[] coalesce(int maxPartitions, RDD<?> parent) {
        Partition[] parts = parent.partitions();
        int workers = seeds.length;
        if (parts.length != workers * perWorker) {
            throw new IllegalStateException(parts.length + " cache partitions for " + workers + " workers x " + perWorker);
        }
        PartitionGroup[] groups = new PartitionGroup[workers];
        for (int w = 0; w < workers; w++) {
            List<Integer> order = new ArrayList<>();
            for (int j = 0; j < perWorker; j++) order.add(w * perWorker + j);
            if (perWorker > 1) Collections.shuffle(order, new Random(~seeds[w]));
            // Where the first of its blocks is cached: the worker's task runs there when it can.
            Seq<TaskLocation> locs = parent.context().getPreferredLocs(parent, order.get(0));
            groups[w] = new PartitionGroup(locs.isEmpty() ? Option.empty() : Option.apply(locs.head().host()));
            for (int j : order) groups[w].partitions().$plus$eq(parts[j]);
        }
        return groups;
    }
}
