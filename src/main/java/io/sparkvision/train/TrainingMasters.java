package io.sparkvision.train;

import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.apache.spark.storage.StorageLevel;

/** Builds the DL4J training master a job file asks for. */
public final class TrainingMasters {
    private TrainingMasters() {
    }

    public static TrainingMaster<?, ?> create(JobConfig c, int workers) {
        // The only master offered so far; gradient sharing comes with the distributed-training work.
        // The second argument is the number of examples in each DataSet of the RDD: ImageDataset.epochBatches
        // emits ready-made minibatches of batch-size-per-worker examples, so DL4J must not merge them again.
        return new ParameterAveragingTrainingMaster.Builder(workers, c.get(Options.TRAIN_BATCH))
                .batchSizePerWorker(c.get(Options.TRAIN_BATCH))
                .averagingFrequency(c.get(Options.TRAIN_AVG_FREQ))
                .workerPrefetchNumBatches(c.get(Options.TRAIN_PREFETCH))
                .saveUpdater(true)
                // The epoch's batches are already spread evenly over one partition per worker (ImageDataset):
                // DL4J's default 'Always' would shuffle every averaging round's batches through Spark again.
                .repartionData(Repartition.NumPartitionsWorkersDiffers)
                .rddTrainingApproach(RDDTrainingApproach.Direct)
                .storageLevel(StorageLevel.MEMORY_ONLY())
                .rngSeed(c.get(Options.TRAIN_SEED))
                .build();
    }
}
