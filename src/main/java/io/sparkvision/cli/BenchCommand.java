package io.sparkvision.cli;

import io.sparkvision.bench.ScalingModel;
import io.sparkvision.bench.TrainBenchmark;
import io.sparkvision.image.InputShape;
import io.sparkvision.model.Architectures;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code sparkvision bench ...}: benchmarks that print measured ratios (never run as tests). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks measured side by side in one run.",
        subcommands = {BenchCommand.Train.class, BenchCommand.Job.class, BenchCommand.Scaling.class, BenchCommand.NetRigCheck.class, BenchCommand.Score.class, BenchCommand.Infer.class, BenchCommand.Ingest.class, BenchCommand.Input.class, BenchCommand.SynthImages.class})
final class BenchCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    /** Forward multiply-adds per example, from the model summary (all layer types, graphs too). */
    static long forwardMacs(String name, InputShape shape) {
        io.sparkvision.model.NetConf conf = Architectures.get(name).configure(shape, 10, 1, new org.nd4j.linalg.learning.config.Sgd(0.1), 0);
        return io.sparkvision.model.ModelStats.summary(conf).stream().mapToLong(io.sparkvision.model.ModelStats.Row::multiplyAdds).sum();
    }

    @Command(name = "score", mixinStandardHelpOptions = true,
            description = "The score job's images/s against a pure forward pass over the same decoded images.")
    static final class Score implements Callable<Integer> {
        @Option(names = "--model", defaultValue = "lenet5", description = "architecture name; default ${DEFAULT-VALUE}")
        String model;

        @Option(names = "--images", defaultValue = "50000", description = "images to score; default ${DEFAULT-VALUE}")
        int images;

        @Option(names = "--input", description = "CxHxW of the images; default: the model's own (resnet18: 3x224x224)")
        String input;

        @Option(names = "--batch", defaultValue = "64", description = "default ${DEFAULT-VALUE}")
        int batch;

        @Option(names = "--workers", defaultValue = "2", description = "default ${DEFAULT-VALUE}")
        int workers;

        @Override
        public Integer call() throws Exception {
            new io.sparkvision.bench.ScoreBenchmark(model, input == null ? null : io.sparkvision.image.InputShape.parse(input),
                    images, batch, workers, System.out).run();
            return 0;
        }
    }

    @Command(name = "infer", mixinStandardHelpOptions = true,
            description = "Forward-only (inference) examples/s of the product's path, as the score and evaluate jobs run it, against PyTorch's"
                    + " model.eval() under torch.no_grad() on the same model, input, batch and threads, in alternating slices of one run.")
    static final class Infer implements Callable<Integer> {
        @Option(names = "--model", defaultValue = "resnet50", description = "architecture name; default ${DEFAULT-VALUE}")
        String model;

        @Option(names = "--input", description = "CxHxW; default: the model's own (resnet50: 3x224x224)")
        String input;

        @Option(names = "--batch", defaultValue = "16", description = "default ${DEFAULT-VALUE}")
        int batch;

        @Option(names = "--threads", description = "OpenMP threads on both sides; default: the cores")
        Integer threads;

        @Option(names = "--seconds", defaultValue = "10", description = "length of each side's slice per round; default ${DEFAULT-VALUE}")
        double seconds;

        @Option(names = "--rounds", defaultValue = "2", description = "alternating product/PyTorch slices; default ${DEFAULT-VALUE}")
        int rounds;

        @Option(names = "--no-torch", description = "skip PyTorch")
        boolean noTorch;

        @Override
        public Integer call() {
            InputShape shape = input != null ? InputShape.parse(input) : Architectures.get(model).defaultInput();
            if (batch < 1 || rounds < 1 || seconds <= 0 || threads != null && threads < 1)
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--batch, --rounds, --threads must be >= 1 and --seconds > 0");
            int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
            new io.sparkvision.bench.InferenceBenchmark(new io.sparkvision.bench.InferenceBenchmark.Settings(model, shape, batch, t, seconds,
                    rounds, !noTorch), System.out).run();
            return 0;
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Single-JVM fit vs Spark parameter averaging vs gradient sharing vs PyTorch: examples/s, GFLOP/s against a"
                    + " large SGEMM, and per averaging round compute seconds, bytes, communication seconds and compute share.")
    static final class Train implements Callable<Integer> {
        @Option(names = "--model", defaultValue = "lenet5", description = "architecture name (lenet alias lenet5); default ${DEFAULT-VALUE}")
        String model;

        @Option(names = "--input", description = "CxHxW; default: the model's own (resnet18: 3x64x64)")
        String input;

        @Option(names = "--batch", defaultValue = "64", description = "minibatch size per worker; default ${DEFAULT-VALUE}")
        int batch;

        @Option(names = "--workers", defaultValue = "2", description = "Spark local workers; default ${DEFAULT-VALUE}")
        int workers;

        @Option(names = "--seconds", defaultValue = "20", description = "length of the single-JVM and PyTorch measurements; default ${DEFAULT-VALUE}")
        double seconds;

        @Option(names = "--averaging-frequency", defaultValue = "5", description = "minibatches per worker per round; default ${DEFAULT-VALUE}")
        int averagingFrequency;

        @Option(names = "--rounds", defaultValue = "2", description = "measured rounds per Spark master, after one warm-up round; default ${DEFAULT-VALUE}")
        int rounds;

        @Option(names = "--warm-up-rounds", defaultValue = "1", description = "unmeasured rounds first (0 for very slow models); default ${DEFAULT-VALUE}")
        int warmUpRounds;

        @Option(names = "--masters", defaultValue = "single,pa,gs", split = ",",
                description = "which modes run, any of single (one JVM), pa (parameter averaging), gs (gradient sharing); default ${DEFAULT-VALUE}")
        java.util.Set<String> masters;

        @Option(names = "--updater", defaultValue = "adam", description = "adam, sgd or nesterovs (PA ships its state every round); default ${DEFAULT-VALUE}")
        String updater;

        @Option(names = "--no-torch", description = "skip the PyTorch side-by-side measurement")
        boolean noTorch;

        @Option(names = "--gemm-size", defaultValue = "4096", description = "n of the n x n SGEMM reference; default ${DEFAULT-VALUE}")
        int gemmSize;

        @Option(names = "--gradient-sharing-port", defaultValue = "40123", description = "DL4J's gradient-sharing port (shared machines: pick a free one); default ${DEFAULT-VALUE}")
        int gradientSharingPort;

        @Override
        public Integer call() {
            String name = model.equals("lenet") ? "lenet5" : model;
            InputShape shape = input != null ? InputShape.parse(input)
                    : name.startsWith("resnet") ? new InputShape(3, 64, 64) : Architectures.get(name).defaultInput();
            for (String m : masters)
                if (!java.util.Set.of("single", "pa", "gs").contains(m))
                    throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--masters: unknown mode '" + m + "' (single, pa, gs)");
            if (rounds < 1 || warmUpRounds < 0 || workers < 1 || averagingFrequency < 1 || batch < 1)
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--rounds, --workers, --averaging-frequency and --batch must be >= 1");
            TrainBenchmark.updater(updater); // fails fast on a bad name
            new TrainBenchmark(new TrainBenchmark.Settings(name, shape, batch, workers, seconds, averagingFrequency, rounds, warmUpRounds, masters,
                    updater, !noTorch, gemmSize, gradientSharingPort), System.out).run(forwardMacs(name, shape));
            return 0;
        }
    }

    @Command(name = "job", mixinStandardHelpOptions = true,
            description = "The train job's own examples/s (evaluation and checkpoint every epoch) against `bench train`'s parameter-averaging"
                    + " row with the same model, input, batch, workers and averaging, alternating in one Spark context; prints both and their ratio.")
    static final class Job implements Callable<Integer> {
        @Option(names = "--model", defaultValue = "resnet18", description = "architecture name; default ${DEFAULT-VALUE}")
        String model;

        @Option(names = "--images", defaultValue = "src/test/resources/emoji-tiny",
                description = "image-folder tree (<split>/<class>/<image>, splits train and val); default: the committed Twemoji fixture, ${DEFAULT-VALUE}")
        java.nio.file.Path images;

        @Option(names = "--copies", defaultValue = "6", description = "copies of each image (the fixture's 24+6 images x 6 = 144 train + 36 val); default ${DEFAULT-VALUE}")
        int copies;

        @Option(names = "--size", defaultValue = "64", description = "image side after ingest; default ${DEFAULT-VALUE}")
        int size;

        @Option(names = "--batch", defaultValue = "16", description = "minibatch per worker; default ${DEFAULT-VALUE}")
        int batch;

        @Option(names = "--workers", defaultValue = "2", description = "Spark local workers; default ${DEFAULT-VALUE}")
        int workers;

        @Option(names = "--averaging-frequency", defaultValue = "2", description = "minibatches per worker per round; default ${DEFAULT-VALUE}")
        int averagingFrequency;

        @Option(names = "--epochs", defaultValue = "3", description = "epochs per job run (the first is reported apart as warm-up); default ${DEFAULT-VALUE}")
        int epochs;

        @Option(names = "--rounds", defaultValue = "4", description = "measured bench rounds per repeat, after one warm-up round; default ${DEFAULT-VALUE}")
        int rounds;

        @Option(names = "--repeats", defaultValue = "2", description = "job run + bench rounds, alternating; default ${DEFAULT-VALUE}")
        int repeats;

        @Override
        public Integer call() throws Exception {
            if (copies < 1 || batch < 1 || workers < 1 || averagingFrequency < 1 || epochs < 2 || rounds < 1 || repeats < 1)
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "--copies, --batch, --workers, --averaging-frequency, --rounds, --repeats must be >= 1 and --epochs >= 2");
            Architectures.get(model); // fails fast on an unknown name
            java.nio.file.Path work = java.nio.file.Files.createTempDirectory("sparkvision-bench-job");
            try {
                new io.sparkvision.bench.JobBenchmark(new io.sparkvision.bench.JobBenchmark.Settings(model, images, copies, size, batch,
                        workers, averagingFrequency, epochs, rounds, repeats, work), System.out).run();
            } finally {
                org.apache.commons.io.FileUtils.deleteQuietly(work.toFile());
            }
            return 0;
        }
    }

    @Command(name = "scaling", mixinStandardHelpOptions = true,
            description = "Modelled throughput and compute share of DL4J's masters (PA at two averaging frequencies; GS PLAIN/MESH,"
                    + " bitmap/sparse) for 1-256 workers (a worker = one executor, one NIC), CPU and GPU executors, 10/25/100 Gbit."
                    + " --doc prints every table of docs/scaling.md. See docs/scaling.md for which inputs are measured and which modelled.")
    static final class Scaling implements Callable<Integer> {
        @Option(names = "--doc", description = "print docs/scaling.md's tables (AlexNet, VGG-16, ResNet-50; advice; time to accuracy) and exit")
        boolean doc;

        @Option(names = "--model", description = "architecture name (required unless --doc)")
        String model;

        @Option(names = "--input", description = "CxHxW; default: the model's own")
        String input;

        @Option(names = "--batch", defaultValue = "32", description = "minibatch per worker; default ${DEFAULT-VALUE}")
        int batch;

        @Option(names = "--aggregation-depth", defaultValue = "2", description = "PA treeAggregate depth; default ${DEFAULT-VALUE}")
        int depth;

        @Option(names = "--updater", defaultValue = "adam", description = "sizes PA's updater state; default ${DEFAULT-VALUE}")
        String updater;

        @Option(names = "--classes", defaultValue = "1000", description = "output classes (sizes the last layer); default ${DEFAULT-VALUE}")
        int classes;

        @Option(names = "--cpu-ex-per-s", description = "examples/s of one CPU executor: the quiet single-JVM rate `bench train --masters single` measures on its k cores")
        double cpu;

        @Option(names = "--gpu-ex-per-s", description = "ASSUMED training examples/s of one GPU executor (state its source)")
        double gpu;

        @Option(names = "--serialize-s-per-gb", defaultValue = "10.7", description = "sender-side serialisation, s/GB (paid in parallel); default ${DEFAULT-VALUE} (docs/scaling.md)")
        double serialize;

        @Option(names = "--deserialize-sum-s-per-gb", defaultValue = "10.7", description = "receiver-side deserialise-and-sum, s/GB (paid serially per result); default ${DEFAULT-VALUE}")
        double deserialize;

        @Option(names = "--round-overhead-s", defaultValue = "0.05", description = "fixed scheduling seconds per PA round; default ${DEFAULT-VALUE}")
        double overhead;

        @Option(names = "--task-ms", defaultValue = "2", description = "driver milliseconds to schedule one task; default ${DEFAULT-VALUE}")
        double taskMs;

        @Option(names = "--apply-ns-cpu", defaultValue = "1", description = "GS ns to encode or decode-and-apply one value on a CPU executor; default ${DEFAULT-VALUE}")
        double applyCpu;

        @Option(names = "--apply-ns-gpu", defaultValue = "0.01", description = "the same on a GPU executor; default ${DEFAULT-VALUE}")
        double applyGpu;

        @Option(names = "--gs-sparsity", defaultValue = "0.01", description = "fraction of values in a sparse GS message (DL4J's adaptive target: 1e-4..1e-2); default ${DEFAULT-VALUE}")
        double sparsity;

        @Option(names = "--examples-per-epoch", defaultValue = "1281167", description = "training examples per epoch: gradient sharing fits once per epoch and pays its treeAggregate once per fit (default ImageNet-1k, ${DEFAULT-VALUE})")
        long examplesPerEpoch;

        @Override
        public Integer call() {
            if (doc) {
                io.sparkvision.bench.ScalingReport.printDoc(System.out);
                return 0;
            }
            if (model == null || cpu <= 0 || gpu <= 0)
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "bench scaling needs --model, --cpu-ex-per-s and --gpu-ex-per-s (or --doc for the document's tables)");
            ScalingModel.Costs costs = new ScalingModel.Costs(serialize / 1e9, deserialize / 1e9, overhead, taskMs / 1e3, applyCpu / 1e9, applyGpu / 1e9);
            ScalingModel.Inputs in = io.sparkvision.bench.ScalingReport.inputs(model, input != null ? InputShape.parse(input) : null,
                    classes, updater, batch, cpu, gpu, costs).withExamplesPerFit(examplesPerEpoch);
            io.sparkvision.bench.ScalingReport.printDetail(in, io.sparkvision.bench.ScalingReport.options(depth, sparsity), System.out);
            return 0;
        }
    }

    @Command(name = "netrig", mixinStandardHelpOptions = true,
            description = "The scaling model against a scripts/netrig run (cluster in network namespaces, tc-shaped links):"
                    + " measured seconds and bytes per step, constants fitted on the unshaped and --fit-mbit cases, predicted vs"
                    + " measured for the others (docs/scaling.md).")
    static final class NetRigCheck implements Callable<Integer> {
        @picocli.CommandLine.Parameters(arity = "1..*", description = "the runs' folders (scripts/netrig --out), read together")
        java.util.List<java.nio.file.Path> dirs;

        @Option(names = "--fit-mbit", defaultValue = "1000", description = "the shaped link whose cases fit the link efficiency (0 = fit none: η = 1, every shaped case held out); default ${DEFAULT-VALUE}")
        double fitMbit;

        @Option(names = "--input", defaultValue = "1x28x28", description = "CxHxW the rig trained on; default ${DEFAULT-VALUE}")
        String input;

        @Override
        public Integer call() throws Exception {
            java.util.List<io.sparkvision.bench.NetRig.Measured> cases = new java.util.ArrayList<>();
            for (java.nio.file.Path dir : dirs) cases.addAll(io.sparkvision.bench.NetRig.read(dir));
            io.sparkvision.bench.NetRig.print(cases, fitMbit, InputShape.parse(input), System.out);
            return 0;
        }
    }

    @Command(name = "ingest", mixinStandardHelpOptions = true,
            description = "Decode+resize the same images with the product's decoder, a plain ImageIO loop and Spark's image source; prints images/s and ratios.")
    static final class Ingest implements Callable<Integer> {
        @Option(names = "--input", required = true, description = "local folder of .jpg/.png/.gif/.bmp files (searched recursively)")
        java.nio.file.Path input;

        @Option(names = "--size", defaultValue = "64", description = "output side in pixels (default ${DEFAULT-VALUE})")
        int size;

        @Option(names = "--limit", defaultValue = "0", description = "use at most N files; 0 = all")
        int limit;

        @Option(names = "--threads", defaultValue = "2", description = "Spark local[N] threads for the image source (default ${DEFAULT-VALUE})")
        int threads;

        @Option(names = "--no-spark", description = "skip Spark's image source")
        boolean noSpark;

        @Override
        public Integer call() throws Exception {
            io.sparkvision.bench.IngestBench.run(input, size, limit, threads, !noSpark, System.out);
            return 0;
        }
    }

    @Command(name = "input", mixinStandardHelpOptions = true,
            description = "The training input path alone, one thread: crop + augment + normalise examples/s per core from the uint8 "
                    + "cache and from encoded PNG/JPEG bytes (decode first), ResNet and AlexNet recipes; no Spark, no model.")
    static final class Input implements Callable<Integer> {
        @Option(names = "--input", defaultValue = "src/test/resources/emoji-tiny", description = "folder of .jpg/.png fixtures the "
                + "synthetic stored images are made from; default ${DEFAULT-VALUE}")
        java.nio.file.Path input;

        @Option(names = "--stored", defaultValue = "256x256", description = "HxW of the stored images; default ${DEFAULT-VALUE}")
        String stored;

        @Option(names = "--size", defaultValue = "224", description = "the model's input side; default ${DEFAULT-VALUE}")
        int size;

        @Option(names = "--images", defaultValue = "64", description = "distinct stored images cycled through; default ${DEFAULT-VALUE}")
        int images;

        @Option(names = "--batch", defaultValue = "64", description = "minibatch size; default ${DEFAULT-VALUE}")
        int batch;

        @Option(names = "--seconds", defaultValue = "10", description = "length of each row (after a warm-up of the same length); default ${DEFAULT-VALUE}")
        double seconds;

        @Option(names = "--data", description = "data.root of a dataset ingested as raw Parquet shards: measure on its stored train "
                + "images (from the cache, and reading the shards) instead of synthetic ones")
        String data;

        @Option(names = "--threads", split = ",", description = "measure the product's own preparation (train.input-threads) at "
                + "these thread counts instead, e.g. 1,2 (ResNet recipe from the uint8 cache, wall-clock examples/s)")
        int[] threads;

        @Override
        public Integer call() throws Exception {
            if (threads != null) {
                if (java.util.Arrays.stream(threads).anyMatch(t -> t < 1))
                    throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--threads: every count must be >= 1");
                String[] hw = stored.toLowerCase(java.util.Locale.ROOT).split("x");
                io.sparkvision.bench.InputBench.threads(input, Integer.parseInt(hw[0]), Integer.parseInt(hw[1]), size, images, batch,
                        seconds, threads, System.out);
                return 0;
            }
            if (data != null) {
                io.sparkvision.bench.InputBench.runOnDataset(data, size, images, batch, seconds, System.out);
                return 0;
            }
            String[] hw = stored.toLowerCase(java.util.Locale.ROOT).split("x");
            if (hw.length != 2) throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--stored: expected HxW, e.g. 256x341");
            io.sparkvision.bench.InputBench.run(input, Integer.parseInt(hw[0]), Integer.parseInt(hw[1]), size, images, batch, seconds, System.out);
            return 0;
        }
    }
    @Command(name = "synth-images", mixinStandardHelpOptions = true,
            description = "Writes a synthetic ImageNet-like folder (<out>/train/cNNNN/*.jpg, 500x375 JPEG q90) made from the fixtures "
                    + "with random crops, scales, colours and noise, for measuring ingest and input at scale. Never commit its output.")
    static final class SynthImages implements Callable<Integer> {
        @Option(names = "--from", defaultValue = "src/test/resources/emoji-tiny", description = "folder of .jpg/.png fixtures; default ${DEFAULT-VALUE}")
        java.nio.file.Path from;

        @Option(names = "--out", required = true, description = "folder to write (e.g. /work/synth/imagenet-100k); outside the repository")
        java.nio.file.Path out;

        @Option(names = "--images", defaultValue = "100000", description = "images to write; default ${DEFAULT-VALUE}")
        long images;

        @Option(names = "--classes", defaultValue = "100", description = "class folders; default ${DEFAULT-VALUE}")
        int classes;

        @Option(names = "--threads", defaultValue = "2", description = "writer threads; default ${DEFAULT-VALUE}")
        int threads;

        @Option(names = "--seed", defaultValue = "1", description = "image i depends only on (seed, i); default ${DEFAULT-VALUE}")
        long seed;

        @Override
        public Integer call() throws Exception {
            io.sparkvision.bench.SyntheticImages.run(from, out, images, classes, threads, seed, System.out);
            return 0;
        }
    }
}
