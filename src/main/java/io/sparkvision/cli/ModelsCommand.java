package io.sparkvision.cli;

import io.sparkvision.model.Architecture;
import io.sparkvision.model.ModelRegistry;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.learning.config.Sgd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code sparkvision models}: the architectures of the registry. */
@Command(name = "models", mixinStandardHelpOptions = true, description = "List the model registry's architectures.")
final class ModelsCommand implements Callable<Integer> {
    @Option(names = "--classes", description = "number of classes for the parameter count (default: ${DEFAULT-VALUE})")
    int classes = 10;

    @Override
    public Integer call() {
        System.out.printf("%-12s %-10s %12s  %s%n", "name", "input", "parameters", "description");
        for (String name : ModelRegistry.names()) {
            Architecture a = ModelRegistry.get(name);
            Model m = a.build(a.defaultInput(), classes, 1, new Sgd(0.1), 0);
            System.out.printf(Locale.ROOT, "%-12s %-10s %,12d  %s%n", name, a.defaultInput(), m.numParams(), a.description());
        }
        return 0;
    }
}
