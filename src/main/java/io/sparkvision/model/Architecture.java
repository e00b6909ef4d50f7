package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.learning.config.IUpdater;

/** A network definition from {@link Architectures}: builds an initialised model for an input shape and class count. */
public interface Architecture {
    String name();

    String description();

    /** The input the architecture was designed for; the summary command uses it when --input is absent. */
    InputShape defaultInput();

    /**
     * The smallest input (height and width; any channel count) the architecture builds for. Below it a pooling or
     * strided stage would see less than its kernel; {@link #configure} throws an IllegalArgumentException naming it.
     */
    InputShape minimumInput();

    /** The configuration without weights (cheap: parameter counts and summaries are computed from it). */
    NetConf configure(InputShape input, int classes, long seed, IUpdater updater, double weightDecay);

    /** An initialised MultiLayerNetwork or ComputationGraph. */
    default Model build(InputShape input, int classes, long seed, IUpdater updater, double weightDecay) {
        return configure(input, classes, seed, updater, weightDecay).init();
    }

    /** Throws the clear error every architecture gives for an input below its minimum. */
    default void requireAtLeast(InputShape in) {
        InputShape min = minimumInput();
        if (in.height() < min.height() || in.width() < min.width()) {
            throw new IllegalArgumentException("model " + name() + " needs an input of at least " + min.height() + "x"
                    + min.width() + " pixels (HxW), got " + in + " (CxHxW)");
        }
    }
}
