package io.sparkvision.model.onednn;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Counts the oneDNN primitives that actually ran, from oneDNN's own {@code DNNL_VERBOSE=1} log of a child JVM (not a
 * flag the product sets): the product's oneDNN (JavaCPP's 2.5.2 library, lines {@code onednn_verbose,exec,...}) must
 * run every convolution forward and both backward passes and every BatchNorm forward and backward, and libnd4j's static copy (lines {@code dnnl_verbose,exec,...})
 * none, so a silent fall-back to DL4J's path fails this test. With {@code -Dsparkvision.native-path=false} the
 * counts flip (checked once by hand: 0 product convolutions, all on libnd4j's).
 */
class NativePathPrimitivesTest {
    record Counts(long convs, long productConvExecs, long libnd4jConvExecs, long productBnExecs, long libnd4jBnExecs, String log) {
    }

    @Test
    void resnet18RunsEveryConvolutionOnTheProductsOneDnn() throws Exception {
        int steps = 2;
        Counts c = run("resnet18", "3x64x64", steps, true);
        assertEquals(20, c.convs, c.log);
        // forward + backward data + backward weights per conv per step
        assertEquals(3 * c.convs * steps, c.productConvExecs, "convolutions on the product's oneDNN\n" + tail(c.log));
        assertEquals(0, c.libnd4jConvExecs, "convolutions that fell back to libnd4j's oneDNN\n" + tail(c.log));
        // one BatchNorm per conv in ResNet: forward (training, batch statistics inside) + backward per step
        assertEquals(2 * c.convs * steps, c.productBnExecs, "BatchNorms on the product's oneDNN\n" + tail(c.log));
        assertEquals(0, c.libnd4jBnExecs, "BatchNorms that fell back to libnd4j's oneDNN\n" + tail(c.log));
    }

    @Test
    void switchedOffNothingRunsOnTheProductsOneDnn() throws Exception {
        Counts c = run("resnet18", "3x64x64", 1, false);
        assertEquals(0, c.productConvExecs, tail(c.log));
        assertEquals(0, c.productBnExecs, tail(c.log));
        assertTrue(c.libnd4jConvExecs >= c.convs, "DL4J's own path runs libnd4j's oneDNN convolutions\n" + tail(c.log));
        assertTrue(c.libnd4jBnExecs >= c.convs, "DL4J's own path runs libnd4j's oneDNN BatchNorms\n" + tail(c.log));
    }

    static Counts run(String model, String input, int steps, boolean on) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1500m", "-Dorg.bytedeco.javacpp.maxbytes=2G", "-Dorg.bytedeco.javacpp.maxphysicalbytes=4G",
                "-Dorg.eclipse.deeplearning4j.helpers.disable=false", "-D" + NativePath.PROPERTY + "=" + on,
                "-cp", System.getProperty("java.class.path"), NativePathProbe.class.getName(), model, input, "" + steps));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DNNL_VERBOSE", "1");
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "probe did not finish");
        assertEquals(0, p.exitValue(), tail(log));
        Matcher m = Pattern.compile("PROBE convs=(\\d+)").matcher(log);
        assertTrue(m.find(), tail(log));
        long product = log.lines().filter(l -> l.startsWith("onednn_verbose,exec,cpu,convolution")).count();
        long libnd4j = log.lines().filter(l -> l.startsWith("dnnl_verbose,exec,cpu,convolution")).count();
        long productBn = log.lines().filter(l -> l.startsWith("onednn_verbose,exec,cpu,batch_normalization")).count();
        long libnd4jBn = log.lines().filter(l -> l.startsWith("dnnl_verbose,exec,cpu,batch_normalization")).count();
        return new Counts(Long.parseLong(m.group(1)), product, libnd4j, productBn, libnd4jBn, log);
    }

    static String tail(String log) {
        return log.length() > 4000 ? log.substring(log.length() - 4000) : log;
    }
}
