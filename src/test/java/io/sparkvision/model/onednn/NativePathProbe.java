package io.sparkvision.model.onednn;

import io.sparkvision.image.InputShape;
import io.sparkvision.model.Architectures;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Run by {@link NativePathPrimitivesTest} in a JVM of its own with {@code DNNL_VERBOSE=1}: builds MODEL for CxHxW as
 * the product does (so the switch and the installation are the product's), trains STEPS Adam steps on batch BATCH
 * (default 2),
 * prints the network's conv, pooling (SubsamplingLayer), global pooling and BatchNorm layer counts and exits.
 */
public final class NativePathProbe {
    public static void main(String[] a) {
        String model = a[0];
        InputShape in = InputShape.parse(a[1]);
        int steps = Integer.parseInt(a[2]);
        int batch = a.length > 3 ? Integer.parseInt(a[3]) : 2;
        var conf = Architectures.get(model).configure(in, 4, 1, new Adam(1e-3), 0);
        // -Dprobe.cacheMode=NONE: a layer stack without DL4J's activation cache (ActivationCacheTest's control run)
        String cache = System.getProperty("probe.cacheMode");
        if (cache != null && conf.stack() != null) conf.stack().setCacheMode(org.deeplearning4j.nn.conf.CacheMode.valueOf(cache));
        Model m = conf.init();
        var x = Nd4j.rand(DataType.FLOAT, batch, in.channels(), in.height(), in.width());
        var y = Nd4j.zeros(DataType.FLOAT, batch, 4);
        for (int i = 0; i < batch; i++) y.putScalar(i, i % 4, 1f);
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            if (i == 1) t0 = System.nanoTime(); // the first step creates the primitives
            if (m instanceof ComputationGraph g) g.fit(new DataSet(x, y));
            else ((MultiLayerNetwork) m).fit(new DataSet(x, y));
        }
        if (steps > 1) System.out.printf(java.util.Locale.ROOT, "PROBE msPerStepAfterFirst=%.1f%n", (System.nanoTime() - t0) / 1e6 / (steps - 1));
        var layers = m instanceof ComputationGraph g ? g.getLayers() : ((MultiLayerNetwork) m).getLayers();
        long convs = java.util.Arrays.stream(layers).filter(NativePath::plainConv).count();
        // DL4J's pooling layer objects, or the product's in their place
        long pools = java.util.Arrays.stream(layers).filter(l -> l.getClass() == org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer.class
                || l instanceof DnnlSubsamplingLayer).count();
        long globalPools = java.util.Arrays.stream(layers).filter(l -> l.getClass() == org.deeplearning4j.nn.layers.pooling.GlobalPoolingLayer.class
                || l instanceof DnnlGlobalPoolingLayer).count();
        long globalPoolsOnProduct = java.util.Arrays.stream(layers).filter(l -> l instanceof DnnlGlobalPoolingLayer).count();
        long bns = count(layers, org.deeplearning4j.nn.layers.normalization.BatchNormalization.class);
        System.out.println("PROBE convs=" + convs + " steps=" + steps + " pools=" + pools + " globalpools=" + globalPools + " globalpoolsonproduct=" + globalPoolsOnProduct + " batchnorms=" + bns);
    }

    private static long count(org.deeplearning4j.nn.api.Layer[] layers, Class<?> type) {
        return java.util.Arrays.stream(layers).filter(l -> l.getClass() == type).count();
    }
}
