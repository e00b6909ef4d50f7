package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LeNet5Test {
    @Test
    void parameterCountIsOwnArithmeticOfTheVariant() {
        // Own arithmetic of the variant built here: C3 fully connected to all six C1 maps and a softmax output. The
        // 1998 paper's C3 uses a partial connection table (1,516 weights, not 2,416) and an RBF output: ~60k.
        MultiLayerNetwork net = new LeNet5().build(new InputShape(1, 28, 28), 10, 1, new Sgd(0.1), 0);
        long c1 = 6 * 5 * 5 + 6, c3 = 16 * 6 * 5 * 5 + 16, f5 = 16 * 5 * 5 * 120 + 120, f6 = 120 * 84 + 84, out = 84 * 10 + 10;
        assertEquals(c1 + c3 + f5 + f6 + out, net.numParams());
        assertEquals(61_706, net.numParams());
    }

    @Test
    void thirtyTwoPixelInputsNeedNoPaddingAndGiveTheSameGeometry() {
        MultiLayerNetwork net = new LeNet5().build(new InputShape(1, 32, 32), 10, 1, new Sgd(0.1), 0);
        assertEquals(61_706, net.numParams());
    }

    @Test
    void forwardGivesOneProbabilityRowPerImage() {
        MultiLayerNetwork net = new LeNet5().build(new InputShape(1, 28, 28), 10, 1, new Sgd(0.1), 0);
        INDArray out = net.output(Nd4j.rand(3, 1, 28, 28));
        assertArrayEquals(new long[] {3, 10}, out.shape());
        for (int i = 0; i < 3; i++) assertEquals(1.0, out.getRow(i).sumNumber().doubleValue(), 1e-5);
    }

    @Test
    void architecturesNameAndRejectUnknownModels() {
        assertEquals("lenet5", Architectures.get("lenet5").name());
        assertEquals(io.sparkvision.config.Options.MODEL_NAME.choices(), Architectures.names(), "model.name's choices");
        assertThrows(IllegalArgumentException.class, () -> Architectures.get("lenet6"));
    }

    @Test
    void inputShapeParsesAndValidates() {
        assertEquals(new InputShape(3, 224, 224), InputShape.parse("3x224x224"));
        assertThrows(IllegalArgumentException.class, () -> InputShape.parse("224x224"));
        assertThrows(IllegalArgumentException.class, () -> InputShape.parse("0x28x28"));
    }
}
