package io.sparkvision.bench;

import io.sparkvision.image.InputShape;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PyTorch's training rate for the same model, input, batch, classes and updater, measured in the same run by the
 * product's own script (resources bench/torch_train.py). Uses the first {@code python3} that imports torch
 * ($SPARKVISION_PYTHON, then python3 on the PATH, then /usr/bin/python3); otherwise the result says why it was
 * not measured. Never reads anything outside the product.
 */
public final class TorchReference {
    private static final Pattern RESULT = Pattern.compile("TORCH_RESULT examples_per_s=([0-9.eE+-]+) params=(\\d+) threads=(\\d+)");

    private static final Pattern CPU = Pattern.compile("cpu_s_per_example=([0-9.eE+-]+)");

    /** The updater name that makes the script time inference ({@code model.eval()} under {@code torch.no_grad()}). */
    public static final String EVAL = "eval";

    /**
     * rate in examples/s, or NaN with {@code note} saying why there is none; {@code cpuSecondsPerExample} the Python
     * process's CPU time per example (inference runs only, else NaN).
     */
    public record Result(double examplesPerSecond, long params, int threads, String python, String note, double cpuSecondsPerExample) {
        public Result(double examplesPerSecond, long params, int threads, String python, String note) {
            this(examplesPerSecond, params, threads, python, note, Double.NaN);
        }

        public boolean measured() {
            return !Double.isNaN(examplesPerSecond);
        }
    }

    private TorchReference() {
    }

    public static Result measure(String model, InputShape in, int batch, int classes, int threads, double seconds, String updater) {
        return measure(pythonWithTorch(), model, in, batch, classes, threads, seconds, updater);
    }

    /** With {@code python} an interpreter that imports torch, or null where there is none. */
    static Result measure(String python, String model, InputShape in, int batch, int classes, int threads, double seconds, String updater) {
        if (python == null) return notMeasured("not measured: no python3 with torch (set SPARKVISION_PYTHON or install python3-torch python3-torchvision)");
        Path script = null;
        try {
            script = Files.createTempFile("sparkvision-torch-train", ".py");
            try (InputStream s = TorchReference.class.getResourceAsStream("/bench/torch_train.py")) {
                if (s == null) return notMeasured("not measured: bench/torch_train.py missing from the classpath");
                Files.copy(s, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            List<String> cmd = List.of(python, script.toString(), model, "" + in.channels(), "" + in.height(), "" + in.width(),
                    "" + batch, "" + classes, "" + threads, "" + seconds, updater);
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("OMP_NUM_THREADS", "" + threads);
            Process p = pb.start();
            // A slow model still finishes its first timed step: allow warm-up and one step beyond 'seconds'.
            boolean done = p.waitFor((long) (seconds * 4 + 600), TimeUnit.SECONDS);
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!done) {
                p.destroyForcibly();
                return notMeasured("not measured: PyTorch run timed out");
            }
            Matcher m = RESULT.matcher(output);
            if (m.find()) {
                Matcher cpu = CPU.matcher(output);
                return new Result(Double.parseDouble(m.group(1)), Long.parseLong(m.group(2)), Integer.parseInt(m.group(3)), python, "",
                        cpu.find() ? Double.parseDouble(cpu.group(1)) : Double.NaN);
            }
            if (p.exitValue() == 3) return notMeasured("not measured: no PyTorch twin of " + model);
            String tail = output.length() > 300 ? output.substring(output.length() - 300) : output;
            return notMeasured("not measured: PyTorch run failed (exit " + p.exitValue() + "): " + tail.strip());
        } catch (IOException e) {
            return notMeasured("not measured: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return notMeasured("not measured: interrupted");
        } finally {
            if (script != null) script.toFile().delete();
        }
    }

    /** PyTorch's inference rate: forward passes of {@code model.eval()} under {@code torch.no_grad()}. */
    public static Result measureInference(String model, InputShape in, int batch, int classes, int threads, double seconds) {
        return measure(pythonWithTorch(), model, in, batch, classes, threads, seconds, EVAL);
    }

    private static Result notMeasured(String why) {
        return new Result(Double.NaN, 0, 0, null, why);
    }

    /** The first candidate interpreter for which {@code import torch} succeeds, or null. */
    static String pythonWithTorch() {
        Set<String> candidates = new LinkedHashSet<>();
        String configured = System.getenv("SPARKVISION_PYTHON");
        if (configured != null && !configured.isBlank()) candidates.add(configured);
        candidates.add("python3");
        candidates.add("/usr/bin/python3");
        for (String python : candidates) {
            try {
                Process p = new ProcessBuilder(new ArrayList<>(List.of(python, "-c", "import torch")))
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) return python;
                p.destroyForcibly();
            } catch (IOException e) {
                // not installed under this name: try the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }
}
