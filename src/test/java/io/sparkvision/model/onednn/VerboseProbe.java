package io.sparkvision.model.onednn;

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
 * Runs {@link NativePathProbe} in a child JVM with {@code DNNL_VERBOSE=1} and counts the oneDNN primitives that
 * actually ran, from oneDNN's own log (not a flag the product sets): lines {@code onednn_verbose,exec,...} come from
 * the product's oneDNN (JavaCPP's 2.5.2), lines {@code dnnl_verbose,exec,...} from libnd4j's static copy (DL4J's
 * helpers).
 */
public final class VerboseProbe {
    private VerboseProbe() {
    }

    /** Which oneDNN copy ran a primitive. */
    public enum Lib {
        PRODUCT("onednn_verbose"), LIBND4J("dnnl_verbose"), EITHER(null);

        final String prefix;

        Lib(String prefix) {
            this.prefix = prefix;
        }
    }

    /**
     * The probe's layer counts (DL4J's ConvolutionLayer, SubsamplingLayer, GlobalPoolingLayer, BatchNormalization, or
     * the product's objects in their place; {@code globalPoolsOnProduct}: global pooling layers the product replaced,
     * as DL4J's own have no oneDNN path) and its log.
     */
    public record Result(long convs, long pools, long globalPools, long globalPoolsOnProduct, long batchNorms, int steps, String log) {
        /**
         * Executions of primitive {@code kind} (a prefix: "convolution", "pooling", "batch_normalization") whose
         * propagation kind starts with {@code prop} ("forward", "backward_data", "backward", ...).
         */
        public long execs(Lib lib, String kind, String prop) {
            return execs(lib, kind, prop, "");
        }

        /** As {@link #execs(Lib, String, String)}, lines that also contain {@code text} (e.g. ",flags:CHR," for a fused ReLU). */
        public long execs(Lib lib, String kind, String prop, String text) {
            return log.lines().filter(l -> l.contains(text)).filter(l -> {
                String[] f = l.split(",");
                if (f.length < 6 || !f[1].equals("exec")) return false;
                if (lib.prefix == null ? !(f[0].equals("onednn_verbose") || f[0].equals("dnnl_verbose")) : !f[0].equals(lib.prefix))
                    return false;
                return f[3].startsWith(kind) && f[5].startsWith(prop);
            }).count();
        }

        /** Executed primitives of these kinds on oneDNN's slow reference implementations ({@code ref:...}). */
        public List<String> reference(String... kinds) {
            return log.lines().filter(l -> {
                String[] f = l.split(",");
                if (f.length < 6 || !f[1].equals("exec") || !f[4].startsWith("ref")) return false;
                for (String k : kinds) if (f[3].startsWith(k)) return true;
                return false;
            }).toList();
        }

        public String tail() {
            return log.length() > 4000 ? log.substring(log.length() - 4000) : log;
        }
    }

    /** MODEL at INPUT (CxHxW), STEPS Adam steps of batch BATCH; the product's path on or off; extra -D properties. */
    public static Result run(String model, String input, int steps, int batch, boolean on, String... props)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1500m", "-Dorg.bytedeco.javacpp.maxbytes=3G", "-Dorg.bytedeco.javacpp.maxphysicalbytes=5G",
                "-Dorg.eclipse.deeplearning4j.helpers.disable=false", "-D" + NativePath.PROPERTY + "=" + on));
        for (String p : props) cmd.add("-D" + p);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), NativePathProbe.class.getName(), model, input,
                "" + steps, "" + batch));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DNNL_VERBOSE", "1");
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "probe did not finish");
        Result tailOnly = new Result(0, 0, 0, 0, 0, steps, log);
        assertEquals(0, p.exitValue(), tailOnly.tail());
        Matcher m = Pattern.compile("PROBE convs=(\\d+) steps=\\d+ pools=(\\d+) globalpools=(\\d+) globalpoolsonproduct=(\\d+) batchnorms=(\\d+)").matcher(log);
        assertTrue(m.find(), tailOnly.tail());
        return new Result(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)), Long.parseLong(m.group(4)),
                Long.parseLong(m.group(5)), steps, log);
    }
}
