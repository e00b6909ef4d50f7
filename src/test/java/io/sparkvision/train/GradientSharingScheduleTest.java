package io.sparkvision.train;

import io.sparkvision.train.sharing.LearningRateThreshold;
import io.sparkvision.config.JobConfig;
import io.sparkvision.model.Models;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * Gradient sharing's workers keep the network DL4J sent them first, so the run's learning-rate schedule must travel
 * inside the network's configuration, and the encoding threshold must follow the same schedule.
 */
class GradientSharingScheduleTest {
    static final String JOB = "train { epochs = 4, learning-rate = 0.002, lr-schedule = cosine, lr-min-fraction = 0.02 }";

    @Test
    void theScheduleTravelsInTheConfigurationAndDl4jLooksUpEachEpochsRate() {
        LearningRates rates = new LearningRates(JobConfig.fromString(JOB), 1);
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().updater(new Adam(0.002)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(3).nOut(2).activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        Models.setLearningRate(net, rates.iterationSchedule(10));
        // What a worker rebuilds from the broadcast: the configuration, serialized and read back.
        MultiLayerConfiguration sent = MultiLayerConfiguration.fromJson(net.getLayerWiseConfigurations().toJson());
        BaseLayer layer = (BaseLayer) sent.getConf(0).getLayer();
        for (int e = 1; e <= 4; e++) {
            // A worker's clock is its iteration count (10 minibatches per epoch here); its epoch count is not one.
            assertEquals(rates.at(e), layer.getIUpdater().getLearningRate((e - 1) * 10, 0), 1e-12, "epoch " + e);
            assertEquals(rates.at(e), layer.getIUpdater().getLearningRate((e - 1) * 10 + 9, 1000), 1e-12, "epoch " + e);
            assertEquals(e, rates.epochAtIteration((e - 1) * 10 + 9, 10));
        }
        assertEquals(2e-3, rates.at(1), 1e-12);
        assertEquals(4e-5, rates.at(4), 1e-12); // the cosine floor: a worker that kept 2e-3 would never anneal
    }

    @Test
    void theThresholdIsTheEpochsLearningRateTimesTheFactor() {
        JobConfig c = JobConfig.fromString(JOB + "\ntrain.gradient-sharing { threshold-factor = 0.5, threshold-algorithm = learning-rate }");
        LearningRates rates = new LearningRates(c, 2);
        LearningRateThreshold t = assertInstanceOf(LearningRateThreshold.class, TrainingMasters.thresholdAlgorithm(c, 2, 10));
        for (int e = 1; e <= 4; e++) {
            assertEquals(0.5 * rates.at(e), t.calculateThreshold((e - 1) * 10 + 3, 1000, null, null, null, null), 1e-12, "epoch " + e);
        }
        assertEquals(0.5 * rates.at(4), t.clone().calculateThreshold(99, 0, null, null, null, null), 1e-12, "beyond the run: last epoch's");
        assertEquals(t.toString(), t.newReducer().getFinalResult().toString());
    }

    @Test
    void updatesTravelInMebibytePiecesNotDl4jsDefault64KiB() {
        var master = assertInstanceOf(org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster.class,
                TrainingMasters.create(JobConfig.fromString("train.master = gradient-sharing"), 2, 1, 10));
        assertEquals(1 << 20, master.getVoidConfiguration().getMaxChunkSize());
    }

    @Test
    void everyJvmsAeronTermHoldsAPieceAsOneMessage() {
        // Aeron refuses a message longer than an eighth of its term buffer; a piece also carries its header.
        var m = java.util.regex.Pattern.compile("-Daeron\\.term\\.buffer\\.length=(\\d+)").matcher(io.sparkvision.config.JvmFlags.DL4J);
        assertTrue(m.find(), io.sparkvision.config.JvmFlags.DL4J);
        long term = Long.parseLong(m.group(1));
        assertTrue(term / 8 >= TrainingMasters.MESH_CHUNK_BYTES + 4096 && term < 32 << 20, "term " + term);
    }
}
