package io.sparkvision.model;

import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.learning.config.IUpdater;

/** A network definition from the registry: builds an initialised model for an input shape and class count. */
public interface Architecture {
    String name();

    String description();

    /** The input the architecture was designed for; the summary command uses it when --input is absent. */
    InputShape defaultInput();

    Model build(InputShape input, int classes, long seed, IUpdater updater, double weightDecay);
}
