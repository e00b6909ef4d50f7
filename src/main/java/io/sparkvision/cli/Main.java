package io.sparkvision.cli;

import io.sparkvision.config.ConfigError;
import io.sparkvision.config.Option;
import io.sparkvision.config.Options;
import io.sparkvision.jobs.EvaluateJob;
import io.sparkvision.jobs.IngestJob;
import io.sparkvision.jobs.TrainJob;
import io.sparkvision.util.Provenance;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.Locale;

/** {@code sparkvision <job> [JOB_FILE] [--set key=value ...]}: the product's command line. */
@Command(name = "sparkvision", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Train, evaluate and apply convolutional networks on Apache Spark.",
        subcommands = {Main.Ingest.class, Main.Train.class, Main.Evaluate.class, ModelsCommand.class, BenchCommand.class})
public final class Main implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main()).setUsageHelpWidth(120);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
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

    @Command(name = "train", description = "Train a model on Spark; evaluator, checkpoints and report after each epoch.")
    static final class Train extends JobCommand {
        @Override
        public Integer call() throws Exception {
            TrainJob.run(config(), System.out);
            return 0;
        }
    }

    @Command(name = "evaluate", description = "Top-1/top-k accuracy and confusion matrix of a saved model, computed on the cluster.")
    static final class Evaluate extends JobCommand {
        @Override
        public Integer call() throws Exception {
            EvaluateJob.run(config(), System.out);
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
