package io.sparkvision.config;

/**
 * The fixed value sets of options, as enums: read once by {@link Option#oneOf} (case-insensitive, naming the key and
 * the allowed values on a typo), then switched on by the jobs. Each constant's label is what job files say.
 */
public final class Choices {
    private Choices() {
    }

    /** train.master: how executors combine their work. */
    public enum TrainMaster implements Option.Choice {
        PARAMETER_AVERAGING, GRADIENT_SHARING;

        /** Parameter averaging gets a new DL4J training master per epoch; gradient sharing keeps one for the run. */
        public boolean perEpoch() {
            return this == PARAMETER_AVERAGING;
        }

        @Override public String toString() { return label(); }
    }

    /** train.updater: the optimiser. */
    public enum Updater implements Option.Choice {
        SGD, NESTEROVS, ADAM, ADAMW;

        @Override public String toString() { return label(); }
    }

    /** train.lr-schedule. */
    public enum LrSchedule implements Option.Choice {
        CONSTANT, STEP, POLYNOMIAL, COSINE;

        @Override public String toString() { return label(); }
    }

    /** train.resume. */
    public enum Resume implements Option.Choice {
        NONE, LATEST;

        @Override public String toString() { return label(); }
    }

    /** eval.where: the held-out split on the driver or on the executors. */
    public enum EvalWhere implements Option.Choice {
        DRIVER, CLUSTER;

        @Override public String toString() { return label(); }
    }

    /**
     * An evaluation metric, by the name it has in metrics.jsonl, report.json and checkpoint metadata: the one
     * spelling of "top1Accuracy" and its siblings (checkpoint.best-metric takes these).
     */
    public enum Metric implements Option.Choice {
        TOP1_ACCURACY("top1Accuracy", true), TOP5_ACCURACY("top5Accuracy", true), TEST_LOSS("testLoss", false);

        private final String label;
        private final boolean higherIsBetter;

        Metric(String label, boolean higherIsBetter) {
            this.label = label;
            this.higherIsBetter = higherIsBetter;
        }

        /** True if {@code candidate} is better than {@code best} (any value beats none). */
        public boolean better(double candidate, Double best) {
            return best == null || (higherIsBetter ? candidate > best : candidate < best);
        }

        @Override public String label() { return label; }
        @Override public String toString() { return label; }
    }

    /** train.early-stopping.metric: a {@link Metric}, or none. */
    public enum EarlyStopMetric implements Option.Choice {
        NONE(null), TOP1_ACCURACY(Metric.TOP1_ACCURACY), TOP5_ACCURACY(Metric.TOP5_ACCURACY), TEST_LOSS(Metric.TEST_LOSS);

        private final Metric metric;

        EarlyStopMetric(Metric metric) {
            this.metric = metric;
        }

        /** The metric watched, or null for none. */
        public Metric metric() {
            return metric;
        }

        @Override public String label() { return metric == null ? "none" : metric.label(); }
        @Override public String toString() { return label(); }
    }

    /** train.gradient-sharing.threshold-algorithm. */
    public enum ThresholdAlgorithm implements Option.Choice {
        AUTO, LEARNING_RATE, FIXED, ADAPTIVE, TARGET_SPARSITY;

        @Override public String toString() { return label(); }
    }

    /** train.gradient-sharing.mesh. */
    public enum Mesh implements Option.Choice {
        PLAIN, MESH;

        @Override public String toString() { return label(); }
    }

    /** score.format. */
    public enum ScoreFormat implements Option.Choice {
        PARQUET, CSV;

        @Override public String toString() { return label(); }
    }

    /** retrain.format: what a landing partition holds. */
    public enum LandingFormat implements Option.Choice {
        IMAGE_FOLDER, MANIFEST;

        @Override public String toString() { return label(); }
    }
}
