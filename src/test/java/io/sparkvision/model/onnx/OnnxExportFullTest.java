package io.sparkvision.model.onnx;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.Set;

/**
 * The big VGGs' ONNX export against DL4J (OnnxExportCheck), in the "full" tier (scripts/test --full): each builds
 * 129-140M parameters and writes a 515-559 MB ONNX file, 25-65 s apiece on the 2-core machine, too slow for the default
 * suite (which checks vgg11bn and every other architecture, OnnxExportTest).
 */
@Tag("full")
class OnnxExportFullTest {
    @TempDir
    Path dir;

    static Set<String> fullModels() {
        return OnnxExportTest.FULL.keySet();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fullModels")
    void sameTop1AndLogitsAsDl4j(String arch) throws Exception {
        System.out.println("onnx-export " + OnnxExportCheck.check(arch, OnnxExportTest.FULL.get(arch), dir));
    }
}
