package io.sparkvision.cli;

import io.sparkvision.bench.TrainBenchmark;
import io.sparkvision.model.InputShape;
import io.sparkvision.model.ModelRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code sparkvision bench ...}: benchmarks that print measured ratios (never run as tests). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks measured side by side in one run.",
        subcommands = {BenchCommand.Train.class, BenchCommand.Score.class, BenchCommand.Ingest.class})
final class BenchCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    /** Forward multiply-adds per example, from the model summary (all layer types, graphs too). */
    static long forwardMacs(String name, InputShape shape) {
        io.sparkvision.model.NetConf conf = ModelRegistry.get(name).configure(shape, 10, 1, new org.nd4j.linalg.learning.config.Sgd(0.1), 0);
        return io.sparkvision.model.ModelStats.summary(conf).stream().mapToLong(io.sparkvision.model.ModelStats.Row::multiplyAdds).sum();
    }

    @Command(name = "score", mixinStandardHelpOptions = true,
            description = "The score job's images/s against a pure forward pass over the same decoded images.")
    static final class Score implements Callable<Integer> {
        @Option(names = "--model", defaultValue = "lenet5", description = "registry name; default ${DEFAULT-VALUE}")
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
            new io.sparkvision.bench.ScoreBenchmark(model, input == null ? null : io.sparkvision.model.InputShape.parse(input),
                    images, batch, workers, System.out).run();
            return 0;
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Single-JVM fit vs Spark parameter averaging vs gradient sharing, examples/s and GFLOP/s.")
    static final class Train implements Callable<Integer> {
        @Option(names = "--model", defaultValue = "lenet5", description = "registry name (lenet alias lenet5); default ${DEFAULT-VALUE}")
        String model;

        @Option(names = "--input", description = "CxHxW; default: the model's own (resnet18: 3x64x64)")
        String input;

        @Option(names = "--batch", defaultValue = "64", description = "minibatch size; default ${DEFAULT-VALUE}")
        int batch;

        @Option(names = "--workers", defaultValue = "2", description = "Spark local workers; default ${DEFAULT-VALUE}")
        int workers;

        @Option(names = "--seconds", defaultValue = "20", description = "length of each measurement; default ${DEFAULT-VALUE}")
        double seconds;

        @Option(names = "--averaging-frequency", defaultValue = "5", description = "default ${DEFAULT-VALUE}")
        int averagingFrequency;

        @Override
        public Integer call() {
            String name = model.equals("lenet") ? "lenet5" : model;
            InputShape shape = input != null ? InputShape.parse(input)
                    : name.startsWith("resnet") ? new InputShape(3, 64, 64) : ModelRegistry.get(name).defaultInput();
            new TrainBenchmark(name, shape, batch, workers, seconds, averagingFrequency, System.out)
                    .run(forwardMacs(name, shape));
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
}
