package io.sparkvision.jobs;

import io.sparkvision.config.Choices;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.train.CheckpointStore;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.ModelMetadata;
import io.sparkvision.train.LearningRates;
import io.sparkvision.train.MetricsLog;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Optional;

/**
 * Where a training run starts: the newest complete checkpoint when resuming (with the metrics of the epochs it
 * covers), else a saved model to warm-start from (the nightly retrain, fine-tuning), else fresh weights.
 *
 * @param firstEpoch the first epoch this run trains
 */
record TrainStart(Model net, int firstEpoch, MetricsLog metrics, CheckpointStore checkpoints) {

    static TrainStart choose(JobConfig cfg, TrainJob.Inputs in, Configuration hadoop, PrintStream out) throws IOException {
        CheckpointStore checkpoints = new CheckpointStore(new Path(HadoopFs.path(in.runDir()), "checkpoints").toString(),
                hadoop, cfg.get(Options.CHECKPOINT_KEEP), cfg.get(Options.CHECKPOINT_BEST_METRIC));
        MetricsLog metrics = new MetricsLog(in.runDir(), hadoop);
        if (cfg.get(Options.TRAIN_RESUME) == Choices.Resume.LATEST) {
            Optional<Integer> latest = checkpoints.latest();
            if (latest.isPresent()) {
                TrainJob.checkResumable(ModelMetadata.fromMap(checkpoints.metadata(latest.get()),
                        checkpoints.dir() + " epoch " + latest.get()), in.arch(), in.shape(), in.dataset(), checkpoints.dir());
                Model net = checkpoints.load(latest.get());
                metrics.resumeAfter(latest.get());
                out.printf("resume: continuing after epoch %d from %s%n", latest.get(), checkpoints.dir());
                return new TrainStart(net, latest.get() + 1, metrics, checkpoints);
            }
            out.printf("resume: no complete checkpoint in %s, starting from scratch%n", checkpoints.dir());
        }
        if (!cfg.get(Options.TRAIN_INIT_MODEL).isBlank()) {
            // Warm start (the nightly retrain, fine-tuning on new data): weights and optimiser state of a saved model.
            Path init = HadoopFs.path(cfg.get(Options.TRAIN_INIT_MODEL));
            TrainJob.checkResumable(ModelFiles.readMetadata(init, hadoop), in.arch(), in.shape(), in.dataset(), init);
            Model net = ModelFiles.load(init, hadoop);
            out.printf("warm start from %s%n", init);
            return new TrainStart(net, 1, metrics, checkpoints);
        }
        Model net = in.arch().build(in.shape(), in.dataset().classes().size(), cfg.get(Options.TRAIN_SEED),
                LearningRates.updater(cfg), cfg.get(Options.TRAIN_WEIGHT_DECAY));
        return new TrainStart(net, 1, metrics, checkpoints);
    }
}
