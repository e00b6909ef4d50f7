package io.sparkvision.cli;

import io.sparkvision.config.JobConfig;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** What every job subcommand takes: a HOCON job file and --set overrides. */
abstract class JobCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "JOB_FILE",
            description = "HOCON job file (see jobs/); keys not set there take their defaults")
    File jobFile;

    @Option(names = {"-c", "--config"}, paramLabel = "JOB_FILE", description = "the job file (same as the positional JOB_FILE)")
    File configFile;

    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
            description = "override one key of the job file, e.g. --set train.epochs=3 (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help, with every job key")
    boolean help;

    JobConfig config() {
        if (jobFile != null && configFile != null && !jobFile.equals(configFile)) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "two job files given (" + jobFile + " and --config " + configFile + "); pass one");
        }
        return JobConfig.load(configFile != null ? configFile : jobFile, overrides);
    }
}
