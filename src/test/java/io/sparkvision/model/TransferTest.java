package io.sparkvision.model;

import io.sparkvision.Bits;
import io.sparkvision.image.InputShape;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

import java.io.File;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Fine-tuning from saved models keeps frozen layers bit-identical and gives the new head; features have the right width. */
class TransferTest {
    @TempDir
    File dir;

    private static DataSet batch(int n, InputShape in, int classes, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(new int[] {n, in.channels(), in.height(), in.width()});
        INDArray y = Nd4j.zeros(n, classes);
        for (int i = 0; i < n; i++) y.putScalar(i, i % classes, 1.0);
        return new DataSet(x, y);
    }

    private Model saveAndReload(Model m, String name) throws Exception {
        Path zip = new Path(new File(dir, name + ".zip").toURI());
        ModelFiles.save(m, zip, Map.of("model", name), new Configuration());
        return Transfer.load(zip.toString());
    }

    @Test
    void leNetFineTunedToThreeClassesKeepsFrozenLayers() throws Exception {
        InputShape in = new InputShape(1, 28, 28);
        MultiLayerNetwork base = (MultiLayerNetwork) Architectures.get("lenet5").build(in, 10, 1, new Sgd(0.1), 0);
        base.fit(batch(8, in, 10, 1)); // "pretrained"
        Model loaded = saveAndReload(base, "lenet");
        MultiLayerNetwork tuned = (MultiLayerNetwork) Transfer.fineTune(loaded, 3, "s4", new Adam(1e-2), 5);
        INDArray c1 = tuned.getLayer(0).params().dup(), c3 = tuned.getLayer(2).params().dup();
        INDArray f5 = tuned.getLayer(4).params().dup();
        for (int i = 0; i < 3; i++) tuned.fit(batch(8, in, 3, 10 + i));
        assertInstanceOf(FrozenLayer.class, tuned.getLayer(0));
        Bits.assertIdentical(c1, tuned.getLayer(0).params(), "c1 is frozen");
        Bits.assertIdentical(c3, tuned.getLayer(2).params(), "c3 is frozen");
        assertNotEquals(f5, tuned.getLayer(4).params(), "f5 trains");
        assertEquals(3, tuned.output(batch(2, in, 3, 0).getFeatures()).size(1));
        assertEquals(84 * 3 + 3, tuned.getLayer(6).numParams(), "new head 84 -> 3");
        // features: F6's 84 activations per image
        assertArrayEquals(new long[] {5, 84}, Transfer.features(tuned, batch(5, in, 3, 0).getFeatures()).shape());
        assertThrows(IllegalArgumentException.class, () -> Transfer.fineTune(loaded, 3, "nope", new Adam(1e-2), 5));
    }

    @Test
    void resNet18GraphFineTunedToFiveClassesKeepsFrozenStages() throws Exception {
        InputShape in = new InputShape(3, 32, 32);
        Model loaded = saveAndReload(Architectures.get("resnet18").build(in, 10, 1, new Sgd(0.1), 0), "resnet18");
        ComputationGraph tuned = (ComputationGraph) Transfer.fineTune(loaded, 5, "layer3.1.relu", new Adam(1e-3), 5);
        String[] frozen = {"conv1.conv", "conv1.bn", "layer3.1.2.conv", "layer3.1.2.bn", "layer3.0.downsample.conv"};
        INDArray[] before = new INDArray[frozen.length];
        for (int i = 0; i < frozen.length; i++) before[i] = tuned.getLayer(frozen[i]).params().dup();
        INDArray l4 = tuned.getLayer("layer4.1.2.conv").params().dup();
        for (int i = 0; i < 2; i++) tuned.fit(batch(4, in, 5, 20 + i));
        for (int i = 0; i < frozen.length; i++) {
            Bits.assertIdentical(before[i], tuned.getLayer(frozen[i]).params(), frozen[i] + " is frozen (BN statistics included)");
        }
        assertNotEquals(l4, tuned.getLayer("layer4.1.2.conv").params(), "layer4 trains");
        assertEquals(512 * 5 + 5, tuned.getLayer("fc").numParams(), "new head 512 -> 5");
        assertArrayEquals(new long[] {3, 5}, tuned.outputSingle(batch(3, in, 5, 0).getFeatures()).shape());
        assertArrayEquals(new long[] {3, 512}, Transfer.features(tuned, batch(3, in, 5, 0).getFeatures()).shape());
    }

    @Test
    void aGraphBackboneKeepsItsOwnRateAndItsOptimiserStateWhenTheRateChanges() throws Exception {
        InputShape in = new InputShape(3, 32, 32);
        Model loaded = saveAndReload(Architectures.get("resnet18").build(in, 10, 1, new Sgd(0.1), 0), "resnet18");
        ComputationGraph tuned = (ComputationGraph) Transfer.fineTune(loaded, 5, "layer3.1.relu", new Adam(1e-3), 1e-4, 5);
        assertTrue(Transfer.frozen(tuned).containsAll(List.of("conv1.conv", "conv1.bn", "layer3.1.2.conv")));
        assertFalse(Transfer.frozen(tuned).contains("layer4.1.2.conv"));
        for (int i = 0; i < 2; i++) tuned.fit(batch(4, in, 5, 20 + i));
        assertEquals(1e-3, rate(tuned.getLayer("fc")), 1e-15);
        assertEquals(1e-4, rate(tuned.getLayer("layer4.1.2.conv")), 1e-15);
        INDArray state = tuned.getUpdater().getStateViewArray().dup();
        Models.setLearningRate(tuned, 5e-4); // what the train job does before each epoch
        assertEquals(5e-4, rate(tuned.getLayer("fc")), 1e-15);
        assertEquals(5e-5, rate(tuned.getLayer("layer4.1.2.conv")), 1e-15, "the backbone keeps a tenth of the head's rate");
        Bits.assertIdentical(state, tuned.getUpdater().getStateViewArray(), "Adam's state survives the new rates");
        tuned.fit(batch(4, in, 5, 30));
    }

    @Test
    void aStackBackboneFollowsAScheduleInProportion() throws Exception {
        InputShape in = new InputShape(1, 28, 28);
        Model loaded = saveAndReload(Architectures.get("lenet5").build(in, 10, 1, new Sgd(0.1), 0), "lenet");
        MultiLayerNetwork tuned = (MultiLayerNetwork) Transfer.fineTune(loaded, null, "c1", new Adam(1e-2), 1e-3, 5);
        assertEquals(10, Models.outputs(tuned), "the head is kept");
        assertEquals(List.of("c1"), Transfer.frozen(tuned));
        Models.setLearningRate(tuned, new MapSchedule(ScheduleType.ITERATION, Map.of(0, 0.02, 10, 0.01)));
        org.nd4j.linalg.learning.config.IUpdater head = ((BaseLayer) tuned.getLayer(6).conf().getLayer()).getIUpdater();
        org.nd4j.linalg.learning.config.IUpdater c3 = ((BaseLayer) tuned.getLayer(2).conf().getLayer()).getIUpdater();
        assertEquals(0.01, head.getLearningRate(10, 0), 1e-12);
        assertEquals(0.002, c3.getLearningRate(0, 0), 1e-12);
        assertEquals(0.001, c3.getLearningRate(10, 0), 1e-12);
        tuned.fit(batch(4, in, 10, 3));
    }

    private static double rate(org.deeplearning4j.nn.api.Layer l) {
        return ((BaseLayer) l.conf().getLayer()).getIUpdater().getLearningRate(0, 0);
    }

    @Test
    void featureWidthsOfOtherFamilies() {
        InputShape in = new InputShape(3, 32, 32);
        Model g = Architectures.get("googlenet").build(in, 10, 1, new Sgd(0.1), 0);
        assertArrayEquals(new long[] {2, 1024}, Transfer.features(g, batch(2, in, 10, 0).getFeatures()).shape());
        // All-CNN-C's classifier is its last 1x1 conv: the features are conv8's 192 channels, averaged over space
        Model a = Architectures.get("allcnnc").build(in, 10, 1, new Sgd(0.1), 0);
        assertEquals("conv9", Transfer.classifier(a));
        assertArrayEquals(new long[] {2, 192}, Transfer.features(a, batch(2, in, 10, 0).getFeatures()).shape());
    }
}
