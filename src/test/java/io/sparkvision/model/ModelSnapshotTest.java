package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The train job checkpoints a snapshot while the model trains on: the snapshot must hold the state of its moment. */
class ModelSnapshotTest {
    @Test
    void layerStackSnapshotKeepsParametersUpdaterStateAndCountersWhileTheOriginalTrainsOn() {
        check(Architectures.get("lenet5").build(new InputShape(1, 28, 28), 3, 1, new Adam(1e-2), 0),
                new DataSet(Nd4j.rand(DataType.FLOAT, 4, 1, 28, 28), Nd4j.eye(3).getRows(0, 1, 2, 0).castTo(DataType.FLOAT)));
    }

    @Test
    void graphSnapshotKeepsParametersUpdaterStateAndCountersWhileTheOriginalTrainsOn() {
        check(Architectures.get("resnet18").build(new InputShape(3, 32, 32), 3, 1, new Adam(1e-2), 0),
                new DataSet(Nd4j.rand(DataType.FLOAT, 4, 3, 32, 32), Nd4j.eye(3).getRows(0, 1, 2, 0).castTo(DataType.FLOAT)));
    }

    private static void check(Model net, DataSet ds) {
        fit(net, ds);
        Models.setEpochCount(net, 1);
        Models.Snapshot snap = Models.snapshot(net);
        var params = net.params().dup();
        var state = updaterState(net).dup();
        int iterations = Models.iterationCount(net);
        fit(net, ds);  // the original moves on
        assertNotEquals(params, net.params());

        Model copy = snap.model();
        assertEquals(params, copy.params());
        assertEquals(state, updaterState(copy));
        assertEquals(iterations, Models.iterationCount(copy));
        assertEquals(1, Models.epochCount(copy));
        assertEquals(net.getClass(), copy.getClass());
    }

    private static void fit(Model m, DataSet ds) {
        if (m instanceof MultiLayerNetwork mln) mln.fit(ds);
        else ((ComputationGraph) m).fit(ds);
    }

    private static org.nd4j.linalg.api.ndarray.INDArray updaterState(Model m) {
        return m instanceof MultiLayerNetwork mln ? mln.getUpdater().getStateViewArray()
                : ((ComputationGraph) m).getUpdater().getStateViewArray();
    }
}
