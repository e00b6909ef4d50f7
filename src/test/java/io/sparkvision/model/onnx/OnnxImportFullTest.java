package io.sparkvision.model.onnx;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@link OnnxImportTest}'s comparison with PyTorch for the other architectures the importer takes (--full: VGG's ONNX
 * files are 0.5 GB and each export and import takes tens of seconds). Input sizes are the smallest each network
 * builds for (VGG 32x32: its adaptive pool then replicates the 1x1 map to 7x7 exactly as PyTorch does; AlexNet 64x64
 * likewise 1x1 to 6x6), which still exercise every weight of the network.
 */
@Tag("full")
class OnnxImportFullTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1}x{1}")
    @CsvSource({"resnet34, 64", "resnet101, 64", "resnet152, 64", "densenet121, 64", "alexnet, 64"})
    void matchesPyTorch(String arch, int size) throws Exception {
        assertImportMatches(arch, size);
    }

    /**
     * torchvision initialises VGG's conv and linear biases to 0, and torch.onnx.export stores equal tensors once
     * (the others become Identity nodes of it): these also prove the importer follows such an alias.
     */
    @ParameterizedTest(name = "{0} {1}x{1}")
    @CsvSource({"vgg16, 32", "vgg19, 32", "vgg16bn, 32"})
    void vggMatchesPyTorch(String arch, int size) throws Exception {
        assertImportMatches(arch, size);
    }

    private void assertImportMatches(String arch, int size) throws Exception {
        OnnxImportTorch.python();
        String torchName = OnnxImportMapping.torchvisionName(arch);
        OnnxImportTorch.Export e = OnnxImportTorch.export(dir, torchName, size, "preserve");
        OnnxImportTest.assertMatchesPyTorch(arch, size, e);
        Files.delete(e.onnx());
    }
}
