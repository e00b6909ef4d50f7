package io.sparkvision.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.core.storage.StatsStorageRouter;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;

import java.util.Collection;

/**
 * One face for DL4J's two Spark wrappers: {@link SparkDl4jMultiLayer} for layer stacks and
 * {@link SparkComputationGraph} for graphs (ResNet, GoogLeNet, ...), so jobs need not care which a model is.
 */
public final class SparkModel {
    private final SparkDl4jMultiLayer mln;
    private final SparkComputationGraph cg;

    private SparkModel(SparkDl4jMultiLayer mln, SparkComputationGraph cg) {
        this.mln = mln;
        this.cg = cg;
    }

    public static SparkModel of(JavaSparkContext sc, Model model, TrainingMaster<?, ?> tm) {
        if (model instanceof MultiLayerNetwork) return new SparkModel(new SparkDl4jMultiLayer(sc, (MultiLayerNetwork) model, tm), null);
        if (model instanceof ComputationGraph) return new SparkModel(null, new SparkComputationGraph(sc, (ComputationGraph) model, tm));
        throw new IllegalArgumentException("unsupported model type " + model.getClass().getName());
    }

    public void fit(JavaRDD<DataSet> data) {
        if (mln != null) mln.fit(data);
        else cg.fit(data);
    }

    public Model network() {
        return mln != null ? mln.getNetwork() : cg.getNetwork();
    }

    /** DL4J's score of the last fitting round (loss averaged over the workers). */
    public double score() {
        return mln != null ? mln.getScore() : cg.getScore();
    }

    public void setListeners(Collection<TrainingListener> listeners) {
        if (mln != null) mln.setListeners(listeners);
        else cg.setListeners(listeners);
    }

    /** Listeners whose reports (DL4J's RoutingIterationListeners, e.g. StatsListener) go to {@code router}. */
    public void setListeners(StatsStorageRouter router, Collection<TrainingListener> listeners) {
        if (mln != null) mln.setListeners(router, listeners);
        else cg.setListeners(router, listeners);
    }

    /**
     * Evaluation computed on the executors and merged on the driver. DL4J broadcasts the live parameter array and
     * destroys the broadcast afterwards; in local mode that is the very array the model trains with ("You can't use
     * DataBuffer once it was released" on the next save). Evaluation therefore runs on a copy of the model.
     */
    public Evaluation evaluate(JavaRDD<DataSet> data, int batchSize, Evaluation empty) {
        SparkModel copy = detachedCopy();
        return copy.mln != null ? copy.mln.doEvaluation(data, batchSize, empty)[0] : copy.cg.doEvaluation(data, batchSize, empty)[0];
    }

    /**
     * Mean loss per example, computed on the executors (on a copy, as {@link #evaluate}). {@code batchSize} must be the
     * largest minibatch in {@code data}: DL4J scores in minibatches of the size it is given (64 if none) and re-cuts
     * larger ones with its IteratorDataSetIterator, which drops examples (1,100 in minibatches of 500 scored as 1,088)
     * and, for some counts (5,000), fails with "Cannot merge examples ... shape: []". Given the data's own size it
     * scores every minibatch as it comes.
     */
    public double meanLoss(JavaRDD<DataSet> data, int batchSize) {
        SparkModel copy = detachedCopy();
        return copy.mln != null ? copy.mln.calculateScore(data, true, batchSize) : copy.cg.calculateScore(data, true, batchSize);
    }

    private SparkModel detachedCopy() {
        if (mln != null) return new SparkModel(new SparkDl4jMultiLayer(mln.getSparkContext(), mln.getNetwork().clone(), mln.getTrainingMaster()), null);
        return new SparkModel(null, new SparkComputationGraph(cg.getSparkContext(), cg.getNetwork().clone(), cg.getTrainingMaster()));
    }
}
