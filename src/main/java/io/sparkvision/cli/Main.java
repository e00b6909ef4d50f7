package io.sparkvision.cli;

import io.sparkvision.config.ConfigError;
import io.sparkvision.config.Launcher;
import io.sparkvision.config.Option;
import io.sparkvision.config.Options;
import io.sparkvision.jobs.EvaluateJob;
import io.sparkvision.jobs.IngestJob;
import io.sparkvision.jobs.RetrainJob;
import io.sparkvision.retrain.RegistryLock;
import io.sparkvision.jobs.ScoreJob;
import io.sparkvision.jobs.TrainJob;
import io.sparkvision.util.Provenance;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.Locale;

/** {@code sparkvision <job> [JOB_FILE] [--set key=value ...]}: the product's command line. */
@Command(name = "sparkvision", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Train, evaluate and apply convolutional networks on Apache Spark.",
        subcommands = {Main.Ingest.class, Main.ConvertDataset.class, Main.Train.class, Main.Evaluate.class, Main.Score.class, Main.Retrain.class, ModelsCommand.class, BenchCommand.class, DocsCommand.class, UiCommand.class})
public final class Main implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        ParentWatch.startIfAsked();
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main()).setUsageHelpWidth(120);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof RegistryLock.Busy) {
                // EX_TEMPFAIL: not a broken job, another run is at work; schedulers can tell the two apart.
                cmd.getErr().println("error: " + e.getMessage());
                return 75;
            }
            if (e instanceof Launcher.Restart) {
                // Only scripts/sparkvision asks for this, and it starts the job again with the flags written for it.
                cmd.getErr().println(e.getMessage());
                return Launcher.RESTART_STATUS;
            }
            if (e instanceof ConfigError || e instanceof IllegalArgumentException) {
                cmd.getErr().println("error: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        for (CommandLine sub : cli.getSubcommands().values()) {
            if (sub.getCommand() instanceof JobCommand) sub.getCommandSpec().usageMessage().footer(keyTable());
        }
        return cli.execute(args);
    }

    /** Every job key with its type, default and description, for --help. */
    static String keyTable() {
        StringBuilder sb = new StringBuilder("%nJob keys (set them in JOB_FILE or with --set):%n");
        for (Option<?> o : Options.all()) {
            String def = String.valueOf(o.defaultValue());
            sb.append(String.format(Locale.ROOT, "  %s = %s%n      %s; accepts %s%n", o.key(),
                    def.isEmpty() ? "(unset)" : def, o.description(), o.accepted()).replace("%", "%%"));
        }
        return sb.toString();
    }

    @Command(name = "ingest", description = "Decode, validate and write a dataset (images, manifest, descriptor) to data.root.")
    static final class Ingest extends JobCommand {
        @Override
        public Integer call() throws Exception {
            IngestJob.validate(config());
            IngestJob.run(config(), System.out);
            return 0;
        }
    }

    @Command(name = "convert-dataset", description = "Convert a dataset of the png-files layout (one PNG per image, "
            + "manifest.csv) into Parquet shards (docs/dataset-format.md); ingest.encoding and ingest.shard-mb apply.")
    static final class ConvertDataset extends JobCommand {
        @picocli.CommandLine.Option(names = "--data", required = true, paramLabel = "URI", description = "the dataset to convert (its data.root)")
        String data;

        @picocli.CommandLine.Option(names = "--to", required = true, paramLabel = "URI", description = "where the sharded dataset is written (new or empty)")
        String to;

        @Override
        public Integer call() throws Exception {
            IngestJob.convert(config(), data, to, System.out);
            return 0;
        }
    }

    @Command(name = "train", description = "Train a model on Spark; evaluator, checkpoints and report after each epoch.")
    static final class Train extends JobCommand {
        @picocli.CommandLine.Option(names = "--resume",
                description = "continue the run in output.dir from its newest complete checkpoint (train.resume = latest)")
        boolean resume;

        @Override
        public Integer call() throws Exception {
            if (resume) overrides.add("train.resume=latest");
            TrainJob.run(config(), System.out);
            return 0;
        }
    }

    @Command(name = "evaluate", description = "Top-1/top-k accuracy and confusion matrix of a saved model, computed on the cluster.")
    static final class Evaluate extends JobCommand {
        @picocli.CommandLine.Option(names = "--model", paramLabel = "CHECKPOINT_OR_URI", description = "model zip (sets model.path)")
        String model;

        @picocli.CommandLine.Option(names = "--data", paramLabel = "URI", description = "ingested dataset (sets data.root)")
        String data;

        @Override
        public Integer call() throws Exception {
            if (model != null) overrides.add("model.path=" + model);
            if (data != null) overrides.add("data.root=" + data);
            EvaluateJob.run(config(), System.out);
            return 0;
        }
    }

    @Command(name = "score", description = "Batch-score images in directories, archives or manifests to Parquet (or CSV).")
    static final class Score extends JobCommand {
        @picocli.CommandLine.Option(names = "--model", paramLabel = "ZIP", description = "model zip (sets model.path)")
        String model;

        @picocli.CommandLine.Option(names = "--input", paramLabel = "URI", description = "what to score (sets score.input)")
        String input;

        @picocli.CommandLine.Option(names = "--output", paramLabel = "URI", description = "output directory (sets score.output)")
        String output;

        @picocli.CommandLine.Option(names = "--overwrite", description = "replace an existing output (score.overwrite = true)")
        boolean overwrite;

        @Override
        public Integer call() throws Exception {
            if (model != null) overrides.add("model.path=" + model);
            if (input != null) overrides.add("score.input=" + input);
            if (output != null) overrides.add("score.output=" + output);
            if (overwrite) overrides.add("score.overwrite=true");
            ScoreJob.run(config(), System.out);
            return 0;
        }
    }

    @Command(name = "retrain", description = "The nightly job: ingest new partitions, warm-start, train, evaluate on the "
            + "holdout, promote only a model that is not worse, record the decision.")
    static final class Retrain extends JobCommand {
        @picocli.CommandLine.Option(names = "--date", paramLabel = "YYYY-MM-DD", description = "the night to train (sets retrain.date; default today)")
        String date;

        @picocli.CommandLine.Option(names = "--force", description = "retrain a night that was already decided, or a window with nothing new")
        boolean force;

        @Override
        public Integer call() throws Exception {
            if (date != null) overrides.add("retrain.date=" + date);
            RetrainJob.Result r = RetrainJob.run(config(), force, System.out);
            System.out.println("retrain: " + r.night() + " " + r.outcome());
            return 0;
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"sparkvision " + Provenance.codeVersion()};
        }
    }
}
