package io.sparkvision.cli;

import io.sparkvision.bench.IngestBench;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code sparkvision bench <what>}: measurements, not tests; numbers depend on the host. */
@Command(name = "bench", description = "Benchmarks (not tests): sparkvision bench ingest --input DIR",
        subcommands = {BenchCommand.Ingest.class})
final class BenchCommand implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    @Command(name = "ingest", mixinStandardHelpOptions = true,
            description = "Decode+resize the same images with the product's decoder, a plain ImageIO loop and Spark's image source; prints images/s and ratios.")
    static final class Ingest implements Callable<Integer> {
        @Option(names = "--input", required = true, description = "local folder of .jpg/.png/.gif/.bmp files (searched recursively)")
        Path input;

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
            IngestBench.run(input, size, limit, threads, !noSpark, System.out);
            return 0;
        }
    }
}
