package io.sparkvision.model;

import org.deeplearning4j.nn.api.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.learning.config.Sgd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parameter counts at 3x224x224 and 1000 classes equal the published ones (torchvision's model table, the papers,
 * Keras' trainable count for MobileNet v1), with BatchNorm running statistics excluded. Counted from the
 * configuration (cheap), and for a graph, a stack and a BN-heavy net also from initialised weights, so the two
 * counting paths are checked against each other.
 */
class ModelZooParamCountTest {
    private static final InputShape IMAGENET = new InputShape(3, 224, 224);

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
            "alexnet, 61100840",
            "alexnet2012, 62378344",
            "vgg11, 132863336",
            "vgg16, 138357544",
            "vgg19, 143667240",
            "vgg13, 133047848",
            "vgg11bn, 132868840",
            "vgg13bn, 133053736",
            "vgg16bn, 138365992",
            "vgg19bn, 143678248",
            "resnet18, 11689512",
            "resnet34, 21797672",
            "resnet50, 25557032",
            "resnet101, 44549160",
            "resnet152, 60192808",
            "googlenet, 6624904",
            "densenet121, 7978856",
            "mobilenetv1, 4231976",
            "mobilenetv2, 3504872",
    })
    void publishedCounts(String name, long expected) {
        NetConf conf = ModelRegistry.get(name).configure(IMAGENET, 1000, 1, new Sgd(0.1), 0);
        assertEquals(expected, ModelStats.params(conf), name);
    }

    @Test
    void countsWithoutPublishedReferenceFollowTheLayerArithmetic() {
        // All-CNN-C on CIFAR-10: conv biases included, no BN; the sum of the paper's nine conv layers.
        long allcnn = (3 * 9 * 96 + 96) + (96 * 9 * 96 + 96) * 2 + (96 * 9 * 192 + 192) + (192 * 9 * 192 + 192) * 3
                + (192 * 192 + 192) + (192 * 10 + 10);
        assertEquals(allcnn, ModelStats.params(new AllCnnC().configure(new InputShape(3, 32, 32), 10, 1, new Sgd(0.1), 0)));
        assertEquals(1_369_738, allcnn);
        // NiN ImageNet (Caffe zoo model): 4 mlpconv blocks; 7,595,176 as computed by hand from the released prototxt sizes.
        long nin = (3 * 121 * 96 + 96) + 2 * (96 * 96 + 96) + (96 * 25 * 256 + 256) + 2 * (256 * 256 + 256)
                + (256 * 9 * 384 + 384) + 2 * (384 * 384 + 384) + (384 * 9 * 1024 + 1024) + (1024 * 1024 + 1024) + (1024 * 1000 + 1000);
        assertEquals(nin, ModelStats.params(new NiN().configure(IMAGENET, 1000, 1, new Sgd(0.1), 0)));
        // VGG-BN = VGG + gamma and beta for every conv channel (torchvision keeps the conv biases).
        for (int d : new int[] {11, 13, 16, 19}) {
            long plain = ModelStats.params(new Vgg(d, false).configure(IMAGENET, 1000, 1, new Sgd(0.1), 0));
            long bn = ModelStats.params(new Vgg(d, true).configure(IMAGENET, 1000, 1, new Sgd(0.1), 0));
            long channels = 0;
            for (int c : Vgg.table(d)) if (c > 0) channels += c;
            assertEquals(plain + 2 * channels, bn, "vgg" + d + "bn");
        }
    }

    @Test
    void googLeNetAuxiliaryHeadsAddTorchvisionsCount() {
        NetConf conf = new GoogLeNet(true).configure(IMAGENET, 1000, 1, new Sgd(0.1), 0);
        assertEquals(13_004_888, ModelStats.params(conf));
        assertEquals(3, conf.graph().getNetworkOutputs().size());
    }

    @Test
    void initialisedWeightsGiveTheSameCountOnceBatchNormStatisticsAreRemoved() {
        for (String name : new String[] {"resnet50", "googlenet", "mobilenetv1", "alexnet2012"}) {
            Architecture a = ModelRegistry.get(name);
            Model m = a.build(IMAGENET, 1000, 1, new Sgd(0.1), 0);
            long fromConf = ModelStats.params(a.configure(IMAGENET, 1000, 1, new Sgd(0.1), 0));
            assertEquals(fromConf, ModelStats.params(m), name);
            if (name.equals("alexnet2012")) assertEquals(0, ModelStats.batchNormStatistics(m));
            else assertTrue(ModelStats.batchNormStatistics(m) > 0, name + " has BN statistics DL4J counts");
        }
        // ResNet-50: DL4J's numParams() = 25,557,032 learned + 2 x 26,560 BN channels' mean and variance.
        Model r50 = ModelRegistry.get("resnet50").build(IMAGENET, 1000, 1, new Sgd(0.1), 0);
        assertEquals(2 * 26_560, ModelStats.batchNormStatistics(r50));
    }

    @Test
    void tooSmallInputsAreRejectedNamingModelAndMinimum() {
        for (String name : ModelRegistry.names()) {
            Architecture a = ModelRegistry.get(name);
            InputShape min = a.minimumInput();
            InputShape below = new InputShape(3, min.height() - 1, min.width() - 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> a.configure(below, 10, 1, new Sgd(0.1), 0), name);
            assertTrue(e.getMessage().contains(name) && e.getMessage().contains(min.height() + "x" + min.width()), e.getMessage());
            // and the minimum itself builds a configuration DL4J accepts
            assertTrue(ModelStats.params(a.configure(new InputShape(3, min.height(), min.width()), 10, 1, new Sgd(0.1), 0)) > 0, name);
        }
    }
}
