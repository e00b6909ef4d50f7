package io.sparkvision.cli;

import io.sparkvision.config.OptionsReference;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code sparkvision docs configuration}: the reference documents the code renders (docs/configuration.md). */
@Command(name = "docs", mixinStandardHelpOptions = true, description = "Print a reference document rendered from the code.",
        subcommands = DocsCommand.Configuration.class)
final class DocsCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        new picocli.CommandLine(this).usage(System.out);
        return 0;
    }

    @Command(name = "configuration", mixinStandardHelpOptions = true,
            description = "Every job key as Markdown (docs/configuration.md): " + OptionsReference.COMMAND)
    static final class Configuration implements Callable<Integer> {
        @Override
        public Integer call() {
            System.out.print(OptionsReference.markdown());
            System.out.flush();
            return 0;
        }
    }
}
