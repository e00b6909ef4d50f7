package io.sparkvision.config;


import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Every option a job file may set, with its default and description. A key not listed here is a typo and
 * is rejected before any Spark work. {@code sparkvision JOB --help} prints this table.
 */
public final class Options {
    private Options() {
    }

    // ---- spark --------------------------------------------------------------------------------------------
    public static final Option<String> SPARK_MASTER = Option.string("spark.master", "local[*]",
            "Spark master URL; ignored under spark-submit, which sets it");
    public static final Option<String> SPARK_APP_NAME = Option.string("spark.app-name", "",
            "Spark application name; empty = sparkvision-<job>");

    // ---- ingest -------------------------------------------------------------------------------------------
    public static final Option<String> INGEST_SOURCE = Option.string("ingest.source", "",
            "URI of the source data (file://, hdfs://, s3a://); for mnist-idx a directory holding the four IDX files");
    public static final Option<String> INGEST_FORMAT = Option.choice("ingest.format", "mnist-idx",
            List.of("mnist-idx", "image-folder", "manifest"), "layout of ingest.source: mnist-idx (the four IDX files); "
                    + "image-folder (<split>/<class>/<image>, also inside .zip/.tar/.tar.gz archives, any folders above "
                    + "the split folder such as dated batches); manifest (a CSV file of path,label[,split] rows, or a *.parquet "
                    + "file/folder with those columns; paths "
                    + "relative to the CSV's folder or full URIs)");
    public static final Option<Integer> INGEST_PARTITIONS = Option.integer("ingest.partitions", 0, 0, 100_000,
            "Spark partitions for ingest; 0 = the default parallelism x 4 (image formats: also at most 1,000 images "
                    + "per task; each archive is one task)");
    public static final Option<Integer> INGEST_IMAGE_SIZE = Option.integer("ingest.image-size", 64, 8, 4_096,
            "image-folder/manifest: the STORED size: images are N x N pixels (shorter-side-crop, keep-aspect) or have "
                    + "their shorter side N (shorter-side); the model's input size is set for training, apart from this");
    public static final Option<String> INGEST_RESIZE = Option.choice("ingest.resize", "shorter-side-crop",
            List.of("shorter-side-crop", "keep-aspect", "shorter-side"), "image-folder/manifest: shorter-side-crop scales "
                    + "the shorter side to ingest.image-size and keeps the centre square; keep-aspect scales the longer "
                    + "side and pads with ingest.background; shorter-side scales the shorter side and keeps the whole "
                    + "image (aspect kept, no crop: each image keeps its own width, for random-resized-crop training)");
    public static final Option<String> INGEST_LAYOUT = Option.choice("ingest.layout", "parquet",
            List.of("parquet", "png-files"), "every ingest.format, mnist-idx included: how the dataset is stored: parquet = each split as "
                    + "Parquet shards of about ingest.shard-mb written by the executors (docs/dataset-format.md); "
                    + "png-files = the earlier layout, one <split>/<class>/<name>.png per image plus manifest.csv "
                    + "(still read by every job; a retrain registry's existing png-files nightly dataset keeps it)");
    public static final Option<String> INGEST_ENCODING = Option.choice("ingest.encoding", "raw",
            List.of("raw", "png"), "ingest.layout = parquet: how a shard row holds its prepared image: raw = uint8 "
                    + "pixels channel-major, zstd-compressed (no decode when read), png = lossless PNG (decoded on every read; "
                    + "smaller only for flat graphics: on photos it measured the same size, docs/dataset-format.md)");
    public static final Option<Integer> INGEST_SHARD_MB = Option.integer("ingest.shard-mb", 128, 1, 2_048,
            "ingest.layout = parquet: target shard size in MB; a shard holds at most floor(shard-mb / stored bytes "
                    + "per image) rows (rows-per-shard, recorded in dataset.json)");
    public static final Option<Integer> INGEST_CHANNELS = Option.integer("ingest.channels", 3, 1, 3,
            "image-folder/manifest: 3 = RGB (grey images replicated), 1 = grey (colour converted to luminance); 2 is rejected");
    public static final Option<String> INGEST_BACKGROUND = Option.string("ingest.background", "white",
            "image-folder/manifest: colour that transparent pixels are flattened onto: white, black, grey or #rrggbb");
    public static final Option<Long> INGEST_MAX_PIXELS = Option.longInt("ingest.max-image-pixels", 100_000_000L,
            "image-folder/manifest: images whose header claims more pixels (width x height) are skipped undecoded");
    public static final Option<Integer> INGEST_MAX_FILE_MB = Option.integer("ingest.max-file-mb", 256, 1, 2_047,
            "image-folder/manifest: files or archive entries larger than this are skipped unread");
    public static final Option<String> INGEST_SPLITS = Option.string("ingest.splits", "train,val,test",
            "image-folder: comma-separated folder names that mark a split; the folder below one is the class");
    public static final Option<String> INGEST_DEFAULT_SPLIT = Option.string("ingest.default-split", "train",
            "image-folder: split of class folders with no split folder above them; manifest: split of rows without one");
    public static final Option<String> INGEST_CLASS_INDEX = Option.string("ingest.class-index", "",
            "image-folder/manifest: URI of a text file with one class name per line, in label-id order; when set, "
                    + "images of other classes are an error; empty = the sorted class names of the train split "
                    + "(an existing dataset's index is always kept, new classes are appended)");

    public static final Option<List<String>> INGEST_CLASS_NAMES = Option.stringList("ingest.class-names",
            "mnist-idx: class names in label order (label 0 first), e.g. Fashion-MNIST's [T-shirt/top, Trouser, Pullover, "
                    + "Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot]; exactly one per label value; dataset.json's class "
                    + "index, reports and scores then use them; empty = the label numbers 0, 1, ...");
    public static final Option<java.util.Map<String, Double>> INGEST_SPLIT_FRACTIONS = Option.fractions("ingest.split-fractions",
            "image-folder/manifest: splits for images with no split folder (or manifest rows with no split), e.g. "
                    + "{ train = 0.8, test = 0.2 }: each image's split is decided by a hash of its path relative to "
                    + "ingest.source, so re-ingests and newly added images keep theirs; fractions add up to 1; "
                    + "empty = such images go to ingest.default-split");

    // ---- data ---------------------------------------------------------------------------------------------
    public static final Option<String> DATA_ROOT = Option.string("data.root", "",
            "URI of an ingested dataset: the directory holding dataset.json and its Parquet shards (or, png-files layout, manifest.csv and the images)");
    public static final Option<String> DATA_TRAIN_SPLIT = Option.string("data.train-split", "train",
            "split of the manifest used for training");
    public static final Option<String> DATA_TEST_SPLIT = Option.string("data.test-split", "test",
            "split of the manifest used by the evaluator");
    public static final Option<Integer> DATA_LIMIT = Option.integer("data.limit", 0, 0, Integer.MAX_VALUE,
            "use at most this many images of each split; 0 = all (for smoke runs)");

    // ---- augment (training batches only, on the executors; all off by default) ---------------------------------
    public static final Option<Integer> AUGMENT_CROP_PADDING = Option.integer("augment.random-crop-padding", 0, 0, 1_024,
            "random crop of the image size after zero-padding each side by N pixels (CIFAR style); 0 = off");
    public static final Option<Boolean> AUGMENT_RRC = Option.flag("augment.random-resized-crop", false,
            "random-resized crop (Inception style): a random area and aspect ratio 3/4..4/3, resized back to the image size");
    public static final Option<Double> AUGMENT_RRC_MIN_SCALE = Option.decimal("augment.random-resized-crop-min-scale", 0.08,
            0.01, 1, "smallest fraction of the image area a random-resized crop keeps");
    public static final Option<Boolean> AUGMENT_FLIP = Option.flag("augment.horizontal-flip", false,
            "mirror half of the images left-right");
    public static final Option<Double> AUGMENT_BRIGHTNESS = Option.decimal("augment.brightness", 0, 0, 1,
            "brightness jitter: pixels scaled by a random factor in [1-x, 1+x]; 0 = off");
    public static final Option<Double> AUGMENT_CONTRAST = Option.decimal("augment.contrast", 0, 0, 1,
            "contrast jitter: blend with the image's mean grey by a random factor in [1-x, 1+x]; 0 = off");
    public static final Option<Double> AUGMENT_SATURATION = Option.decimal("augment.saturation", 0, 0, 1,
            "saturation jitter (RGB only): blend with the grey image by a random factor in [1-x, 1+x]; 0 = off");
    public static final Option<Double> AUGMENT_PCA_LIGHTING = Option.decimal("augment.pca-lighting", 0, 0, 1,
            "AlexNet PCA lighting noise (RGB only): std of the per-eigenvector weights (the paper: 0.1); 0 = off");
    public static final Option<Double> AUGMENT_BLUR_PROBABILITY = Option.decimal("augment.blur-probability", 0, 0, 1,
            "probability of a Gaussian blur with sigma uniform in [0.1, augment.blur-sigma-max]; 0 = off");
    public static final Option<Double> AUGMENT_BLUR_SIGMA_MAX = Option.decimal("augment.blur-sigma-max", 2.0, 0.1, 20,
            "largest Gaussian blur sigma in pixels");

    // ---- model --------------------------------------------------------------------------------------------
    /** The names model.Architectures builds (it checks at load that the two lists agree; config cannot import model). */
    public static final Option<String> MODEL_NAME = Option.choice("model.name", "lenet5", List.of("lenet5", "alexnet2012",
            "alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11bn", "vgg13bn", "vgg16bn", "vgg19bn", "resnet18", "resnet34",
            "resnet50", "resnet101", "resnet152", "googlenet", "nin", "densenet121", "mobilenetv1", "mobilenetv2", "allcnnc",
            "mlp"),
            "architecture (model.Architectures; `scripts/sparkvision models` lists them)");
    public static final Option<Boolean> MODEL_NATIVE_PATH = Option.flag("model.native-path", true,
            "the product's own oneDNN path - convolutions, BatchNorm, ReLU and its fusions (CPU backend, channels-last layers; docs/native-path.md) - on the driver and "
                    + "every executor; false = DL4J's own path everywhere (the same as -Dsparkvision.native-path=false)");
    public static final Option<Integer> MODEL_INPUT_SIZE = Option.integer("model.input-size", 0, 0, 4_096,
            "the model's input side (e.g. 224 on images stored at ingest.image-size = 256); 0 = the dataset's stored size. "
                    + "Training takes random crops of it (or random-resized crops with augment.random-resized-crop), evaluation "
                    + "and scoring the centre crop; model.json records it in its preparation (inputSize)");
    public static final Option<String> MODEL_PATH = Option.string("model.path", "",
            "URI of a saved model or checkpoint (.zip) to evaluate");

    // ---- train --------------------------------------------------------------------------------------------
    public static final Option<Choices.TrainMaster> TRAIN_MASTER = Option.oneOf("train.master",
            Choices.TrainMaster.PARAMETER_AVERAGING,
            "how executors combine their work: averaging parameters every few minibatches, or sharing quantised gradients");
    public static final Option<String> TRAIN_INIT_MODEL = Option.string("train.init-model", "",
            "warm start: URI of a saved model (model.zip or checkpoint) whose weights, class index and input shape this "
                    + "run continues from; with train.fine-tune.* a model to fine-tune (other classes allowed with replace-head); "
                    + "or an .onnx file exported from torchvision (torch.onnx.export with training=TrainingMode.PRESERVE, "
                    + "docs/onnx-import.md) whose weights are imported into model.name's architecture and fine-tuned "
                    + "(resnet18/34/50/101/152, vgg11/13/16/19[bn], densenet121, alexnet); empty = fresh weights");
    public static final Option<Boolean> TRAIN_FT_REPLACE_HEAD = Option.flag("train.fine-tune.replace-head", false,
            "with train.init-model: replace the model's classifier (its last layer with weights) by a new one for this "
                    + "dataset's classes, with fresh weights drawn from train.seed; the dataset may then have other classes "
                    + "than the model (its image preparation must still match); false = the class index must match");
    public static final Option<String> TRAIN_FT_FREEZE_UP_TO = Option.string("train.fine-tune.freeze-up-to", "",
            "with train.init-model: name of a layer (or graph vertex) of the model: it and every layer before it (for a "
                    + "graph: everything it depends on) are frozen, their parameters and BatchNorm statistics never change; "
                    + "an unknown name fails listing the model's layer names; empty = nothing frozen");
    public static final Option<String> TRAIN_FT_BACKBONE_LR = Option.string("train.fine-tune.backbone-learning-rate", "",
            "with train.init-model: learning rate of the trainable layers other than the classifier, e.g. 1e-4 with "
                    + "train.learning-rate = 1e-3; it follows train.lr-schedule in proportion; must be > 0 (to stop layers "
                    + "from training, freeze them with freeze-up-to); empty = train.learning-rate");
    public static final Option<Choices.Resume> TRAIN_RESUME = Option.oneOf("train.resume", Choices.Resume.NONE,
            "latest = continue from the newest complete checkpoint in output.dir (same epoch, optimiser state and data order)");
    public static final Option<Integer> TRAIN_EPOCHS = Option.integer("train.epochs", 10, 1, 100_000,
            "passes over the training split");
    public static final Option<Integer> TRAIN_BATCH = Option.integer("train.batch-size-per-worker", 64, 1, 65_536,
            "minibatch size on each worker");
    public static final Option<Integer> TRAIN_AVG_FREQ = Option.integer("train.averaging-frequency", 5, 1, 100_000,
            "minibatches each worker fits between parameter averagings");
    public static final Option<Integer> TRAIN_WORKERS = Option.integer("train.workers", 0, 0, 100_000,
            "training workers (one per executor core); 0 = Spark's default parallelism");
    public static final Option<Integer> TRAIN_PREFETCH = Option.integer("train.prefetch-batches", 2, 0, 1_000,
            "minibatches each worker prefetches asynchronously");
    public static final Option<Integer> TRAIN_INPUT_THREADS = Option.integer("train.input-threads", 1, 1, 256,
            "threads per training task that crop, augment and normalise its minibatches from the cache; 1 = the task's own "
                    + "thread (CPU executors, whose cores train); on a GPU executor about its cores minus one (one core prepares "
                    + "~1,300 ResNet-recipe examples/s here; docs/input-pipeline.md). The examples do not depend on it");
    public static final Option<Choices.Updater> TRAIN_UPDATER = Option.oneOf("train.updater", Choices.Updater.ADAM,
            "optimiser: plain SGD, SGD with Nesterov momentum, Adam, or Adam with decoupled weight decay");
    public static final Option<Double> TRAIN_LR = Option.decimal("train.learning-rate", 1e-3, 1e-9, 10,
            "initial learning rate");
    public static final Option<Choices.LrSchedule> TRAIN_LR_SCHEDULE = Option.oneOf("train.lr-schedule",
            Choices.LrSchedule.COSINE, "how the learning rate changes from epoch to epoch");
    public static final Option<Double> TRAIN_LR_POWER = Option.decimal("train.lr-power", 2, 0.1, 10,
            "with lr-schedule = polynomial: lr = initial * (1 - progress)^power, floored at lr-min-fraction");
    public static final Option<Integer> TRAIN_WARMUP_EPOCHS = Option.integer("train.warmup-epochs", 0, 0, 1_000,
            "linear warm-up: epochs over which the rate ramps from initial/(warmup+1) to the scheduled rate");
    public static final Option<Integer> TRAIN_LR_REFERENCE_BATCH = Option.integer("train.lr-reference-batch", 0, 0, 1_000_000,
            "linear scaling rule: if > 0, learning-rate is for this total batch and is multiplied by "
                    + "workers x batch-size-per-worker / lr-reference-batch");
    public static final Option<Integer> TRAIN_LR_STEP_EPOCHS = Option.integer("train.lr-step-epochs", 5, 1, 100_000,
            "with lr-schedule = step: epochs between decays");
    public static final Option<Double> TRAIN_LR_STEP_GAMMA = Option.decimal("train.lr-step-gamma", 0.1, 1e-6, 1,
            "with lr-schedule = step: factor applied at each decay");
    public static final Option<Double> TRAIN_LR_MIN_FRACTION = Option.decimal("train.lr-min-fraction", 0.01, 0, 1,
            "with lr-schedule = cosine: final learning rate as a fraction of the initial one");
    public static final Option<Double> TRAIN_MOMENTUM = Option.decimal("train.momentum", 0.9, 0, 0.999999,
            "momentum for nesterovs");
    public static final Option<Double> TRAIN_WEIGHT_DECAY = Option.decimal("train.weight-decay", 0, 0, 1,
            "decoupled weight decay coefficient (0 = off)");
    public static final Option<Long> TRAIN_SEED = Option.longInt("train.seed", 42,
            "seed for weight initialisation and data order");

    public static final Option<Integer> TRAIN_AGGREGATION_DEPTH = Option.integer("train.aggregation-depth", 2, 1, 10,
            "parameter averaging: levels of Spark's treeAggregate that sum the workers' results; deeper = fewer results "
                    + "reach the driver at once (about workers^(1/depth)) at the cost of extra shuffle stages");
    public static final Option<Boolean> TRAIN_AVERAGE_UPDATER = Option.flag("train.average-updater", true,
            "parameter averaging: ship and average the optimiser state with the parameters each round. With Adam that is "
                    + "3x the parameter bytes per worker (2x with nesterovs, 1x with sgd); false ships parameters only and each "
                    + "worker restarts Adam's moment estimates every round (bias correction restarts too), which usually slows "
                    + "convergence");
    public static final Option<Boolean> TRAIN_SIZING_ENFORCE = Option.flag("train.sizing.enforce", true,
            "stop before any Spark work when the memory sizing says a round cannot fit (false = print the sizing and go on)");
    public static final Option<Boolean> TRAIN_SIZING_GPU = Option.flag("train.sizing.gpu", false,
            "size executors as GPU executors (report device memory per executor); automatic with the CUDA backend");

    public static final Option<Choices.EarlyStopMetric> TRAIN_EARLY_STOP_METRIC = Option.oneOf("train.early-stopping.metric",
            Choices.EarlyStopMetric.NONE,
            "stop when this evaluation metric has not improved for 'patience' evaluations");
    public static final Option<Integer> TRAIN_EARLY_STOP_PATIENCE = Option.integer("train.early-stopping.patience", 3, 1, 10_000,
            "evaluations without improvement before early stopping");

    // ---- gradient sharing (train.master = gradient-sharing) ----------------------------------------------
    public static final Option<Choices.ThresholdAlgorithm> GS_THRESHOLD_ALGORITHM = Option.oneOf(
            "train.gradient-sharing.threshold-algorithm", Choices.ThresholdAlgorithm.AUTO,
            "how the encoding threshold is chosen: auto = learning-rate with dense encoding and no residual clipping for "
                    + "adam/adamw (measured closest to parameter averaging, see docs/design.md), adaptive otherwise; learning-rate = threshold-factor x the epoch's learning rate (what an "
                    + "Adam/Nesterov step per weight is bounded by); fixed = threshold; adaptive = DL4J's default, moved "
                    + "from threshold to keep 0.01%-1% of the weights per message; target-sparsity = moved to keep "
                    + "target-sparsity of them");
    public static final Option<Double> GS_THRESHOLD = Option.decimal("train.gradient-sharing.threshold", 1e-3, 1e-9, 1,
            "encoding threshold (fixed), or the initial one (adaptive, target-sparsity)");
    public static final Option<Double> GS_THRESHOLD_FACTOR = Option.decimal("train.gradient-sharing.threshold-factor", 1, 1e-3, 1_000,
            "with threshold-algorithm = learning-rate: threshold = this x the epoch's learning rate");
    public static final Option<Double> GS_TARGET_SPARSITY = Option.decimal("train.gradient-sharing.target-sparsity", 1e-3, 1e-6, 0.0625,
            "with threshold-algorithm = target-sparsity: fraction of the weights each message carries (DL4J caps it at 1/16)");
    public static final Option<Double> GS_RESIDUAL_CLIP = Option.decimal("train.gradient-sharing.residual-clip", 5, 0, 1_000,
            "clip the not-yet-sent residual to this many times the threshold every 5 iterations (DL4J's default); "
                    + "0 = never (the residual is then sent in later messages, nothing is dropped)");
    public static final Option<Boolean> GS_KEEP_UPDATES = Option.flag("train.gradient-sharing.keep-updates", true,
            "every worker applies every update the others sent: it waits for all workers to join the mesh before its "
                    + "first step and keeps the updates DL4J M2 drops between fits (false = DL4J's own behaviour)");
    public static final Option<Integer> GS_MAX_STALENESS = Option.integer("train.gradient-sharing.max-staleness", 0, -1, 1_000,
            "how many steps a worker may run ahead of the other workers' updates: 0 = synchronous (each step starts "
                    + "from every worker's previous steps: learns as parameter averaging does, waits for the slowest "
                    + "worker); n = at most n steps behind; -1 = never wait (DL4J's asynchronous way: fastest, measured "
                    + "to lose accuracy, see docs/design.md); needs keep-updates, and sends a bitmap every step");
    public static final Option<Boolean> GS_DENSE_ENCODING = Option.flag("train.gradient-sharing.dense-encoding", false,
            "encode every message as a bitmap (2 bits per parameter); DL4J M2's switch to sparse index lists drops "
                    + "quanta when a sparse message overflows (needs keep-updates)");
    public static final Option<Integer> GS_PORT = Option.integer("train.gradient-sharing.port", 40123, 1024, 65535,
            "UDP port of the Aeron parameter mesh on every node");
    public static final Option<String> GS_NETWORK_MASK = Option.string("train.gradient-sharing.network-mask", "",
            "network the mesh uses, e.g. 10.0.0.0/16; empty = any interface");
    public static final Option<String> GS_CONTROLLER = Option.string("train.gradient-sharing.controller-address", "",
            "address of the mesh controller (the driver); empty = detected");
    public static final Option<Choices.Mesh> GS_MESH = Option.oneOf("train.gradient-sharing.mesh", Choices.Mesh.PLAIN,
            "plain = every node talks to the controller; mesh = tree for large clusters");

    // ---- evaluate -----------------------------------------------------------------------------------------
    public static final Option<Integer> EVAL_EVERY = Option.integer("eval.every-epochs", 1, 1, 100_000,
            "evaluate the test split every N epochs (and always after the last), where eval.where says");
    public static final Option<Integer> EVAL_BATCH = Option.integer("eval.batch-size", 500, 1, 65_536,
            "minibatch size for evaluation");
    public static final Option<Choices.EvalWhere> EVAL_WHERE = Option.oneOf("eval.where", Choices.EvalWhere.DRIVER,
            "driver = held-out batches kept on the driver (small splits); cluster = doEvaluation on the executors, merged "
                    + "on the driver (large splits)");
    public static final Option<Integer> EVAL_TOP_K = Option.integer("eval.top-k", 5, 1, 1_000,
            "k of the top-k accuracy reported next to top-1");

    // ---- score --------------------------------------------------------------------------------------------
    public static final Option<String> SCORE_INPUT = Option.string("score.input", "",
            "URI of what to score: a directory (images and archives, recursively), one .zip/.tar/.tar.gz, or a CSV "
                    + "manifest whose 'path' column names images relative to it");
    public static final Option<String> SCORE_OUTPUT = Option.string("score.output", "",
            "URI of the output directory (Parquet, or CSV with score.format = csv)");
    public static final Option<Choices.ScoreFormat> SCORE_FORMAT = Option.oneOf("score.format", Choices.ScoreFormat.PARQUET,
            "output format; csv joins the top-k arrays with '|'");
    public static final Option<Boolean> SCORE_OVERWRITE = Option.flag("score.overwrite", false,
            "replace an existing output; without it an existing output is an error");
    public static final Option<Integer> SCORE_TOP_K = Option.integer("score.top-k", 5, 1, 1_000, "classes reported per image");
    public static final Option<Integer> SCORE_BATCH = Option.integer("score.batch-size", 64, 1, 65_536,
            "images per forward pass on an executor");
    public static final Option<Integer> SCORE_FILES_PER_TASK = Option.integer("score.files-per-task", 1_000, 1, 10_000_000,
            "loose image files per Spark task (each archive is one task)");

    // ---- retrain (the nightly job) ------------------------------------------------------------------------
    public static final Option<String> RETRAIN_SOURCE = Option.string("retrain.source", "",
            "URI of the landing area: date=YYYY-MM-DD/<class>/<image> partitions (archives inside them too); only "
                    + "images not ingested before are read");
    public static final Option<Choices.LandingFormat> RETRAIN_FORMAT = Option.oneOf("retrain.format",
            Choices.LandingFormat.IMAGE_FOLDER, "what a landing partition holds: image-folder = date=YYYY-MM-DD/<class>/<image>; "
                    + "manifest = date=YYYY-MM-DD/*.csv with rows path,label (paths relative to the CSV or full URIs)");
    public static final Option<String> RETRAIN_REGISTRY = Option.string("retrain.registry", "",
            "URI of the model registry: candidates/<id>/ (model, report, provenance), the 'current' pointer, "
                    + "history.jsonl, the lock and the nightly dataset (data/)");
    public static final Option<String> RETRAIN_HOLDOUT = Option.string("retrain.holdout", "",
            "URI of an ingested dataset (see the ingest job) whose split retrain.holdout-split is the fixed holdout; its "
                    + "class index is the production class index");
    public static final Option<String> RETRAIN_HOLDOUT_SPLIT = Option.string("retrain.holdout-split", "test",
            "split of retrain.holdout both the current and the candidate model are evaluated on");
    public static final Option<String> RETRAIN_DATE = Option.string("retrain.date", "",
            "the night being trained, YYYY-MM-DD; empty = today (this machine's time zone). Partitions dated later are ignored");
    public static final Option<Integer> RETRAIN_WINDOW_DAYS = Option.integer("retrain.window-days", 7, 0, 100_000,
            "train on the partitions of the last N days up to retrain.date; 0 = every partition");
    public static final Option<Double> RETRAIN_TOLERANCE = Option.decimal("retrain.tolerance", 0.005, 0, 1,
            "promote the candidate unless its holdout top-1 is more than this below the current model's (0.005 = half a point)");
    public static final Option<Double> RETRAIN_MIN_TOP1 = Option.decimal("retrain.min-top1", 0, 0, 1,
            "a candidate below this holdout top-1 is never promoted (guards the first night, when there is no current model)");
    public static final Option<Integer> RETRAIN_LOCK_STALE_MINUTES = Option.integer("retrain.lock-stale-minutes", 15, 1, 100_000,
            "a lock whose holder has not refreshed it for this long is stale and is taken over (a holder refreshes it every "
                    + "minute; a lock of a dead process on this host is taken over at once)");

    // ---- checkpoints and output ---------------------------------------------------------------------------
    public static final Option<Integer> CHECKPOINT_EVERY = Option.integer("checkpoint.every-epochs", 1, 1, 100_000,
            "write a checkpoint every N epochs (and always after the last)");
    public static final Option<Integer> CHECKPOINT_EVERY_MINUTES = Option.integer("checkpoint.every-minutes", 0, 0, 100_000,
            "also checkpoint after any epoch that ends more than this many minutes after the previous checkpoint; 0 = off");
    public static final Option<Choices.Metric> CHECKPOINT_BEST_METRIC = Option.oneOf("checkpoint.best-metric",
            Choices.Metric.TOP1_ACCURACY, "metric that picks the 'best' checkpoint, which is never pruned");
    public static final Option<Integer> CHECKPOINT_KEEP = Option.integer("checkpoint.keep-last", 3, 1, 100_000,
            "checkpoints kept; older ones are deleted once a newer one is complete");
    public static final Option<String> OUTPUT_DIR = Option.string("output.dir", "runs/demo",
            "URI of the run directory for report, metrics and checkpoints");
    public static final Option<Integer> PROGRESS_SECONDS = Option.integer("progress.interval-seconds", 10, 1, 3_600,
            "seconds between progress lines");

    // ---- live training view (DL4J's Training UI, docs/live-ui.md) ------------------------------------------
    public static final Option<Boolean> UI_ENABLED = Option.flag("ui.enabled", false,
            "train job: every worker reports DL4J training statistics (score, update:parameter ratios, histograms) to the "
                    + "driver, which writes them to <output.dir>/training-stats.db and serves DL4J's Training UI "
                    + "while the job runs (URL printed at the start; `scripts/sparkvision ui RUN_DIR` shows it later)");
    public static final Option<Integer> UI_PORT = Option.integer("ui.port", 0, 0, 65_535,
            "port of the Training UI; 0 = a free port (printed)");
    public static final Option<String> UI_HOST = Option.string("ui.host", "127.0.0.1",
            "address the Training UI listens on; 0.0.0.0 opens it (unauthenticated) to the network; with gradient sharing "
                    + "on a cluster the executors post their statistics to it, so it must be an address they reach");
    public static final Option<Integer> UI_STATS_EVERY = Option.integer("ui.stats-every", 1, 1, 100_000,
            "a worker reports its statistics every N iterations (each report also computes parameter/gradient histograms: "
                    + "a larger N costs less)");

    private static final List<Option<?>> ALL = collect();

    /** Every option, in declaration order. */
    public static List<Option<?>> all() {
        return ALL;
    }

    private static List<Option<?>> collect() {
        List<Option<?>> out = new ArrayList<>();
        for (Field f : Options.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == Option.class) {
                try {
                    out.add((Option<?>) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return Collections.unmodifiableList(out);
    }
}
