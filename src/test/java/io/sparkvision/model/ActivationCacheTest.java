package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import io.sparkvision.model.onednn.VerboseProbe;
import io.sparkvision.model.onednn.VerboseProbe.Lib;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AlexNet and VGG keep their conv outputs for backprop (DL4J's activation cache) so oneDNN runs each conv forward
 * once per training step instead of twice (docs/design.md, Where the time goes). The cache must change speed only: the same
 * parameters after training as without it, and the setting must survive the configuration's JSON (checkpoints,
 * Spark workers rebuild the network from it), and it must remove the recomputed forward pass, counted from oneDNN's
 * own log.
 */
class ActivationCacheTest {

    @ParameterizedTest
    @CsvSource({"alexnet2012, 63", "vgg11, 32"})
    void cachedStackTrainsExactlyLikeTheUncachedOne(String model, int side) {
        InputShape in = new InputShape(3, side, side);
        MultiLayerConfiguration cached = Architectures.get(model).configure(in, 3, 7, new Nesterovs(0.01, 0.9), 0).stack();
        assertEquals(CacheMode.DEVICE, cached.getCacheMode());
        assertEquals(CacheMode.DEVICE, MultiLayerConfiguration.fromJson(cached.toJson()).getCacheMode());

        MultiLayerConfiguration plain = cached.clone();
        plain.setCacheMode(CacheMode.NONE);
        MultiLayerNetwork withCache = new MultiLayerNetwork(cached);
        withCache.init();
        MultiLayerNetwork without = new MultiLayerNetwork(plain);
        without.init();
        INDArray initial = withCache.params().dup();
        without.setParams(initial.dup());

        Nd4j.getRandom().setSeed(11);
        DataSet ds = new DataSet(Nd4j.rand(DataType.FLOAT, 4, 3, side, side), Nd4j.eye(3).getRows(0, 1, 2, 0).castTo(DataType.FLOAT));
        for (int step = 0; step < 2; step++) {
            Nd4j.getRandom().setSeed(100 + step); // the same dropout masks for both networks
            withCache.fit(ds);
            Nd4j.getRandom().setSeed(100 + step);
            without.fit(ds);
        }
        INDArray diff = withCache.params().sub(without.params());
        assertTrue(diff.amaxNumber().doubleValue() <= 1e-5 * Math.max(1, withCache.params().amaxNumber().doubleValue()),
                model + ": cached and uncached training differ by " + diff.amaxNumber());
        assertTrue(withCache.params().sub(initial).amaxNumber().doubleValue() > 1e-6, model + ": training moved no parameter");
    }

    /**
     * The cache's point, counted from oneDNN's own {@code DNNL_VERBOSE} log of two training steps in a child JVM: with
     * it every conv layer runs its forward convolution once per step, without it twice (DL4J's conv backprop recomputes
     * the forward). A cache that does nothing gives the uncached count and fails.
     */
    @Test
    void theCacheRemovesTheRecomputedConvForward() throws Exception {
        int steps = 2;
        VerboseProbe.Result cached = VerboseProbe.run("alexnet2012", "3x63x63", steps, 2, true);
        VerboseProbe.Result plain = VerboseProbe.run("alexnet2012", "3x63x63", steps, 2, true, "probe.cacheMode=NONE");
        assertEquals(5, cached.convs(), cached.tail());
        assertEquals(cached.convs() * steps, cached.execs(Lib.EITHER, "convolution", "forward"),
                "with the cache: one forward convolution per conv layer per step\n" + cached.tail());
        assertEquals(2 * plain.convs() * steps, plain.execs(Lib.EITHER, "convolution", "forward"),
                "without it: two (the control run shows the count can tell them apart)\n" + plain.tail());
    }
}
