/**
 * The model zoo: architectures as the papers (or torchvision, where its layout is the published reference) define
 * them, because DL4J's own zoo differs (VGG19 lacks an FC layer, ResNet50 has conv biases, no ResNet-18/34 or
 * GoogLeNet, a 1.2M-parameter "LeNet").
 *
 * <p>One file per family; {@link io.sparkvision.model.Architectures} names them. Parameter counts at 3x224x224,
 * 1000 classes, BatchNorm running statistics excluded ({@link io.sparkvision.model.ModelStats}), each asserted
 * by ModelZooParamCountTest:
 * <pre>
 * alexnet2012  62,378,344   alexnet      61,100,840
 * vgg11       132,863,336   vgg11bn     132,868,840
 * vgg13       133,047,848   vgg13bn     133,053,736
 * vgg16       138,357,544   vgg16bn     138,365,992
 * vgg19       143,667,240   vgg19bn     143,678,248
 * resnet18     11,689,512   resnet34     21,797,672   resnet50  25,557,032
 * resnet101    44,549,160   resnet152    60,192,808
 * googlenet     6,624,904   (13,004,888 with the optional auxiliary heads)
 * densenet121   7,978,856   mobilenetv1   4,231,976   mobilenetv2  3,504,872
 * nin           7,595,176   allcnnc       1,560,808 (1,369,738 at 10 classes on 3x32x32)
 * </pre>
 * Minimum inputs (HxW; smaller ones fail with an IllegalArgumentException naming the model and the minimum):
 * lenet5 12, allcnnc 9, alexnet/alexnet2012 63, nin 67, all others 32 (their total stride).
 *
 * <p>Conventions: He (WeightInit.RELU) initialisation, Xavier for softmax classifiers; explicit padding with
 * PyTorch's floor arithmetic (ConvolutionMode.Truncate) except GoogLeNet's ceil-mode pools; BatchNorm uses its
 * running statistics at inference (DL4J's default); dropout given as DL4J's retain probability (1 - the papers' p).
 * Branching families (ResNet, GoogLeNet, DenseNet, MobileNetV2) are ComputationGraphs, the rest MultiLayerNetworks.
 */
package io.sparkvision.model;
