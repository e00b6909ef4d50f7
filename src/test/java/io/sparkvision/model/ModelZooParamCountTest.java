package io.sparkvision.model;

import io.sparkvision.image.InputShape;
import org.deeplearning4j.nn.api.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.learning.config.Sgd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parameter counts at 3x224x224 and 1000 classes, with BatchNorm running statistics excluded. Every expected number
 * says where it comes from: {@code torchvision} = the num_params of torchvision's model (its weights' metadata /
 * model table), {@code keras} = Keras Applications' trainable count, {@code paper} = the paper's own figure,
 * {@code own arithmetic} = computed by this project from the layer sizes (no published exact figure exists), spelled
 * out in the test so a reader can redo it. Counted from the configuration (cheap), and for a graph, a stack and a
 * BN-heavy net also from initialised weights, so the two counting paths are checked against each other.
 */
class ModelZooParamCountTest {
    private static final InputShape IMAGENET = new InputShape(3, 224, 224);

    @ParameterizedTest(name = "{0} = {1} ({2})")
    @CsvSource({
            "alexnet, 61100840, torchvision alexnet",
            "vgg11, 132863336, torchvision vgg11",
            "vgg13, 133047848, torchvision vgg13",
            "vgg16, 138357544, torchvision vgg16 (paper: 138M)",
            "vgg19, 143667240, torchvision vgg19 (paper: 144M)",
            "vgg11bn, 132868840, torchvision vgg11_bn",
            "vgg13bn, 133053736, torchvision vgg13_bn",
            "vgg16bn, 138365992, torchvision vgg16_bn",
            "vgg19bn, 143678248, torchvision vgg19_bn",
            "resnet18, 11689512, torchvision resnet18",
            "resnet34, 21797672, torchvision resnet34",
            "resnet50, 25557032, torchvision resnet50",
            "resnet101, 44549160, torchvision resnet101",
            "resnet152, 60192808, torchvision resnet152",
            "googlenet, 6624904, torchvision googlenet (aux heads dropped; see googLeNetAuxiliaryHeads)",
            "densenet121, 7978856, torchvision densenet121",
            "mobilenetv1, 4231976, keras MobileNet alpha=1.0 trainable (4253864 total minus 21888 BN statistics)",
            "mobilenetv2, 3504872, torchvision mobilenet_v2",
    })
    void publishedCounts(String name, long expected, String source) {
        NetConf conf = Architectures.get(name).configure(IMAGENET, 1000, 1, new Sgd(0.1), 0);
        assertEquals(expected, ModelStats.params(conf), name + ", expected from " + source);
    }

    @Test
    void alexNet2012IsOwnArithmeticOfThePapersUngroupedLayers() {
        // Own arithmetic: the 2012 paper's layer sizes on one GPU (no grouping), conv biases, no BN. The paper only
        // says "60 million"; DL4J's zoo AlexNet (same layout) reports the same 62,378,344 from its weights.
        long conv = (3 * 11 * 11 * 96 + 96) + (96 * 5 * 5 * 256 + 256) + (256 * 3 * 3 * 384 + 384)
                + (384 * 3 * 3 * 384 + 384) + (384 * 3 * 3 * 256 + 256);
        long fc = (256 * 6 * 6 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000);
        assertEquals(62_378_344, conv + fc);
        assertEquals(conv + fc, ModelStats.params(Architectures.get("alexnet2012").configure(IMAGENET, 1000, 1, new Sgd(0.1), 0)));
    }

    @Test
    void countsWithoutPublishedReferenceFollowTheLayerArithmetic() {
        // Own arithmetic. All-CNN-C on CIFAR-10: conv biases included, no BN; the sum of the paper's nine conv layers
        // (the paper gives only "1.3 M").
        long allcnn = (3 * 9 * 96 + 96) + (96 * 9 * 96 + 96) * 2 + (96 * 9 * 192 + 192) + (192 * 9 * 192 + 192) * 3
                + (192 * 192 + 192) + (192 * 10 + 10);
        assertEquals(allcnn, ModelStats.params(new AllCnnC().configure(new InputShape(3, 32, 32), 10, 1, new Sgd(0.1), 0)));
        assertEquals(1_369_738, allcnn);
        // Own arithmetic. NiN ImageNet (Caffe zoo model): 4 mlpconv blocks, from the released prototxt's layer sizes
        // (neither the paper nor the zoo states a count).
        long nin = (3 * 121 * 96 + 96) + 2 * (96 * 96 + 96) + (96 * 25 * 256 + 256) + 2 * (256 * 256 + 256)
                + (256 * 9 * 384 + 384) + 2 * (384 * 384 + 384) + (384 * 9 * 1024 + 1024) + (1024 * 1024 + 1024) + (1024 * 1000 + 1000);
        assertEquals(nin, ModelStats.params(new NiN().configure(IMAGENET, 1000, 1, new Sgd(0.1), 0)));
        assertEquals(7_595_176, nin);
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
    void googLeNetAuxiliaryHeadsAreOwnArithmeticOnTorchvisionsLayout() {
        // Own arithmetic: torchvision's table counts GoogLeNet without its two training-only heads. Each head as
        // torchvision defines it: 1x1 conv to 128 (no bias) + BN gamma/beta, FC 2048 -> 1024, FC 1024 -> 1000.
        long aux4a = (512 * 128 + 2 * 128) + (2048 * 1024 + 1024) + (1024 * 1000 + 1000);
        long aux4d = (528 * 128 + 2 * 128) + (2048 * 1024 + 1024) + (1024 * 1000 + 1000);
        NetConf conf = new GoogLeNet(true).configure(IMAGENET, 1000, 1, new Sgd(0.1), 0);
        assertEquals(6_624_904 + aux4a + aux4d, ModelStats.params(conf));
        assertEquals(13_004_888, 6_624_904 + aux4a + aux4d);
        assertEquals(3, conf.graph().getNetworkOutputs().size());
    }

    @Test
    void initialisedWeightsGiveTheSameCountOnceBatchNormStatisticsAreRemoved() {
        for (String name : new String[] {"resnet50", "googlenet", "mobilenetv1", "alexnet2012"}) {
            Architecture a = Architectures.get(name);
            Model m = a.build(IMAGENET, 1000, 1, new Sgd(0.1), 0);
            long fromConf = ModelStats.params(a.configure(IMAGENET, 1000, 1, new Sgd(0.1), 0));
            assertEquals(fromConf, ModelStats.params(m), name);
            if (name.equals("alexnet2012")) assertEquals(0, ModelStats.batchNormStatistics(m));
            else assertTrue(ModelStats.batchNormStatistics(m) > 0, name + " has BN statistics DL4J counts");
        }
        // ResNet-50: DL4J's numParams() = 25,557,032 learned + 2 x 26,560 BN channels' mean and variance.
        Model r50 = Architectures.get("resnet50").build(IMAGENET, 1000, 1, new Sgd(0.1), 0);
        assertEquals(2 * 26_560, ModelStats.batchNormStatistics(r50));
    }

    @Test
    void tooSmallInputsAreRejectedNamingModelAndMinimum() {
        for (String name : Architectures.names()) {
            Architecture a = Architectures.get(name);
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
