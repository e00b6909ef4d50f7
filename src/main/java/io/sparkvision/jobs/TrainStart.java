package io.sparkvision.jobs;

import io.sparkvision.config.Choices;
import io.sparkvision.config.ConfigError;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.Options;
import io.sparkvision.train.CheckpointStore;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.model.FineTuning;
import io.sparkvision.model.ModelMetadata;
import io.sparkvision.model.Transfer;
import io.sparkvision.model.onnx.OnnxImporter;
import io.sparkvision.train.LearningRates;
import io.sparkvision.train.MetricsLog;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Optional;

/**
 * Where a training run starts: the newest complete checkpoint when resuming (with the metrics of the epochs it
 * covers), else a saved model to warm-start from (the nightly retrain, fine-tuning), else fresh weights.
 *
 * @param firstEpoch the first epoch this run trains
 * @param fineTuning what fine-tuning the init model did (null when the run did not fine-tune one)
 */
record TrainStart(Model net, int firstEpoch, MetricsLog metrics, CheckpointStore checkpoints, FineTuning fineTuning) {

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
                return new TrainStart(net, latest.get() + 1, metrics, checkpoints, null);
            }
            out.printf("resume: no complete checkpoint in %s, starting from scratch%n", checkpoints.dir());
        }
        // Weights from PyTorch (an .onnx file) have no optimiser state or class index to continue from: they always
        // start a fine-tuning run, with the train.fine-tune.* keys or without (then the classes must match).
        if (!cfg.get(Options.TRAIN_INIT_MODEL).isBlank() && (FineTuneKeys.any(cfg) || OnnxImporter.isOnnx(cfg.get(Options.TRAIN_INIT_MODEL)))) {
            return fineTune(cfg, in, hadoop, metrics, checkpoints, out);
        }
        if (!cfg.get(Options.TRAIN_INIT_MODEL).isBlank()) {
            // Warm start (the nightly retrain, fine-tuning on new data): weights and optimiser state of a saved model.
            Path init = HadoopFs.path(cfg.get(Options.TRAIN_INIT_MODEL));
            TrainJob.checkResumable(ModelFiles.readMetadata(init, hadoop), in.arch(), in.shape(), in.dataset(), init);
            Model net = ModelFiles.load(init, hadoop);
            out.printf("warm start from %s%n", init);
            return new TrainStart(net, 1, metrics, checkpoints, null);
        }
        Model net = in.arch().build(in.shape(), in.dataset().classes().size(), cfg.get(Options.TRAIN_SEED),
                LearningRates.updater(cfg), cfg.get(Options.TRAIN_WEIGHT_DECAY));
        return new TrainStart(net, 1, metrics, checkpoints, null);
    }

    /**
     * A saved model fine-tuned for this dataset with DL4J's TransferLearning: its images must be prepared as this
     * dataset's were; its classes must match unless the head is replaced. An .onnx file exported from torchvision is
     * imported into model.name's architecture for this dataset's input shape (docs/onnx-import.md).
     */
    private static TrainStart fineTune(JobConfig cfg, TrainJob.Inputs in, Configuration hadoop, MetricsLog metrics,
                                       CheckpointStore checkpoints, PrintStream out) throws IOException {
        Path init = HadoopFs.path(cfg.get(Options.TRAIN_INIT_MODEL));
        boolean replaceHead = cfg.get(Options.TRAIN_FT_REPLACE_HEAD);
        List<String> classes = in.dataset().classes();
        String fix = replaceHead ? "use a model of this architecture and preparation"
                : "set train.fine-tune.replace-head = true to train a new classifier for this dataset's classes";
        Model saved;
        if (OnnxImporter.isOnnx(init.toString())) {
            try {
                saved = OnnxImporter.load(in.arch(), in.shape(), init, hadoop, cfg.get(Options.TRAIN_SEED),
                        LearningRates.updater(cfg), cfg.get(Options.TRAIN_WEIGHT_DECAY));
            } catch (IllegalArgumentException e) {
                throw new ConfigError(cfg.origin() + ": " + Options.TRAIN_INIT_MODEL.key() + " = " + init + " with model.name = "
                        + in.arch().name() + ": " + e.getMessage());
            }
            out.printf("imported %s into %s (%,d parameters)%n", init, in.arch().name(), saved.numParams());
        } else {
            ModelMetadata.requireCompatible(ModelFiles.readMetadata(init, hadoop), null, "cannot fine-tune " + init, "this job",
                    in.arch().name(), in.shape(), replaceHead ? null : classes, in.dataset().preparationOrDefaults(), fix);
            saved = ModelFiles.load(init, hadoop);
        }
        if (!replaceHead) {
            ModelMetadata.requireCompatible(null, saved, "cannot fine-tune " + init, "this job", null, null, classes, null, fix);
        }
        String upTo = cfg.get(Options.TRAIN_FT_FREEZE_UP_TO);
        cfg.check(upTo.isBlank() || Transfer.layerNames(saved).contains(upTo), Options.TRAIN_FT_FREEZE_UP_TO,
                "no layer or vertex of that name in " + init + "; its layers: " + Transfer.layerNames(saved));
        double backbone = FineTuneKeys.backboneRate(cfg);
        String head = Transfer.classifierName(saved);
        Model net;
        try {
            net = Transfer.fineTune(saved, replaceHead ? classes.size() : null, upTo.isBlank() ? null : upTo,
                    LearningRates.updater(cfg), backbone, cfg.get(Options.TRAIN_SEED));
        } catch (IllegalArgumentException e) {
            throw new ConfigError(cfg.origin() + ": " + Options.TRAIN_FT_FREEZE_UP_TO.key() + " = " + upTo + ": " + e.getMessage());
        }
        FineTuning done = new FineTuning(init.toString(), replaceHead ? head : null, classes.size(), Transfer.frozen(net),
                Transfer.frozenParameters(net), Double.isNaN(backbone) ? cfg.get(Options.TRAIN_LR) : backbone);
        out.println(done.describe());
        return new TrainStart(net, 1, metrics, checkpoints, done);
    }
}
