package io.sparkvision.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkvision.bench.ScalingModel.Mesh;
import io.sparkvision.image.InputShape;
import io.sparkvision.train.MetricsLine;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * What scripts/netrig measured, against {@link ScalingModel}: per case (model × master × mesh × link) the seconds per
 * step (PA round or GS iteration) and the bytes per step each namespace's eth0 carried, from the job's metrics.jsonl
 * and the rig's /proc/net/dev samples; then the model's free constants fitted on the unshaped and fastest shaped
 * cases and its predictions for the held-out (slower) links.
 *
 * <p>Free constants, per (model, master): the non-network seconds of a step, {@code T0} (compute, serialisation,
 * apply, scheduling: the unshaped case's step time less its modelled wire time at the veth's speed, taken as
 * infinite), and per master (PA: Spark's TCP; GS: Aeron's UDP relay and Spark's shuffle) the link efficiency {@code η}: the share of
 * the shaped rate the transfers reached on the fit link. The wire bytes and which link carries them are the model's
 * own ({@link ScalingModel#paWireBytes}, {@link ScalingModel#gsWireBytes}); nothing about the held-out links is fitted.
 */
public final class NetRig {
    /** One step's measured time and bytes (the mean over the steady epochs: every epoch after the first). */
    public record Measured(String name, String model, boolean pa, Mesh mesh, double mbit, int workers, int batch,
                           int averagingFrequency, double steps, int epochs, double stepSeconds, double driverRx, double driverTx,
                           double workerRx, double workerTx, String load, double shuffleRemote) {
        double stepsPerEpoch() {
            return steps / epochs;
        }

        String option() {
            return pa ? "PA f=" + averagingFrequency : "GS " + mesh;
        }

        String link() {
            return mbit == 0 ? "unshaped" : String.format(Locale.ROOT, "%.0f Mbit", mbit);
        }
    }

    /** A held-out (or fitted) case: measured against predicted. */
    /**
     * @param predictedSeconds the model: T0 + the model's wire bytes over η·B
     * @param scaledSeconds    no byte model: T0 + the fit link's measured excess over T0, scaled by its rate / this rate
     */
    public record Row(Measured m, boolean fitted, double predictedSeconds, double scaledSeconds, double predictedDriverBytes,
                      double predictedWorkerTx) {
        double error() {
            return predictedSeconds / m.stepSeconds() - 1;
        }

        double scaledError() {
            return scaledSeconds / m.stepSeconds() - 1;
        }
    }

    private NetRig() {
    }

    /** Every case directory under {@code dir} (those with a metrics.jsonl), measured from {@code dir/bytes.tsv}. */
    public static List<Measured> read(Path dir) throws IOException {
        Map<String, List<long[]>> samples = readSamples(dir.resolve("bytes.tsv"));
        List<Measured> cases = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path c : s.sorted().toList()) {
                if (!Files.isRegularFile(c.resolve("metrics.jsonl")) || !Files.isRegularFile(c.resolve("case.properties"))) continue;
                cases.add(measure(c, samples));
            }
        }
        if (cases.isEmpty()) throw new IllegalArgumentException(dir + " holds no netrig case (a folder with case.properties "
                + "and metrics.jsonl); run scripts/netrig first");
        return cases;
    }

    /** node -> rows of {time ms, rx bytes, tx bytes}, in time order. */
    static Map<String, List<long[]>> readSamples(Path tsv) throws IOException {
        Map<String, List<long[]>> byNode = new HashMap<>();
        for (String line : Files.readAllLines(tsv)) {
            String[] f = line.split("\t");
            if (f.length != 4) continue; // a row cut short when the sampler was stopped
            byNode.computeIfAbsent(f[1], k -> new ArrayList<>()).add(new long[] {Long.parseLong(f[0]), Long.parseLong(f[2]), Long.parseLong(f[3])});
        }
        return byNode;
    }

    static Measured measure(Path c, Map<String, List<long[]>> samples) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(c.resolve("case.properties"))) {
            p.load(r);
        }
        ObjectMapper json = new ObjectMapper();
        List<MetricsLine> lines = new ArrayList<>();
        for (String l : Files.readAllLines(c.resolve("metrics.jsonl"))) if (!l.isBlank()) lines.add(json.readValue(l, MetricsLine.class));
        int workers = Integer.parseInt(p.getProperty("workers")), batch = Integer.parseInt(p.getProperty("batch"));
        int f = Integer.parseInt(p.getProperty("averagingFrequency"));
        boolean pa = p.getProperty("master").equals("parameter-averaging");
        // The first epoch pays JIT warm-up and the executors' start: only later epochs are steady.
        List<MetricsLine> steady = lines.size() > 1 ? lines.subList(1, lines.size()) : lines;
        double steps = 0, seconds = 0;
        double[] bytes = new double[4]; // driver rx, tx, mean worker rx, tx
        for (MetricsLine l : steady) {
            long batchesPerWorker = (long) Math.ceil((double) l.examples() / workers / batch);
            double s = pa ? (l.sparkJobs() != null && l.sparkJobs() > 1 ? l.sparkJobs() - 1 : Math.ceil((double) batchesPerWorker / f))
                    : batchesPerWorker;
            double fit = l.fitSeconds() != null ? l.fitSeconds() : l.epochSeconds();
            steps += s;
            seconds += fit;
            // The line's time is taken after the epoch's evaluation (the last epoch's only): the fit ended that much earlier.
            double eval = l.evaluationSeconds() != null ? l.evaluationSeconds() : 0;
            long end = Instant.parse(l.time()).toEpochMilli() - Math.round(eval * 1000), start = end - Math.round(fit * 1000);
            long[] d = delta(samples.get("drv"), start, end);
            bytes[0] += d[0];
            bytes[1] += d[1];
            for (int w = 1; w <= workers; w++) {
                long[] dw = delta(samples.get("w" + w), start, end);
                bytes[2] += dw[0] / (double) workers;
                bytes[3] += dw[1] / (double) workers;
            }
        }
        String mesh = p.getProperty("mesh", "plain");
        return new Measured(c.getFileName().toString(), p.getProperty("model"), pa, Mesh.valueOf(mesh.toUpperCase(Locale.ROOT)),
                Double.parseDouble(p.getProperty("mbit")), workers, batch, f, steps, steady.size(), seconds / steps, bytes[0] / steps,
                bytes[1] / steps, bytes[2] / steps, bytes[3] / steps, p.getProperty("load", "?"),
                shuffleRemoteBytes(c.resolve("events")) / (steps / steady.size() * lines.size()));
    }

    /**
     * Bytes Spark's shuffle fetched from other executors over the whole run (every epoch), from the event log
     * scripts/netrig keeps per case (Remote Bytes Read of every task), or NaN without one.
     */
    static double shuffleRemoteBytes(Path events) throws IOException {
        if (!Files.isDirectory(events)) return Double.NaN;
        ObjectMapper json = new ObjectMapper();
        double remote = 0;
        boolean found = false;
        try (Stream<Path> logs = Files.list(events)) {
            for (Path log : logs.toList()) {
                try (Stream<String> lines = Files.lines(log)) {
                    for (String line : (Iterable<String>) lines::iterator) {
                        if (!line.contains("\"SparkListenerTaskEnd\"")) continue;
                        try {
                            remote += json.readTree(line).path("Task Metrics").path("Shuffle Read Metrics").path("Remote Bytes Read").asDouble(0);
                            found = true;
                        } catch (com.fasterxml.jackson.core.JsonProcessingException cut) {
                            // the last line of a log whose job was stopped (case timeout) may be cut short
                        }
                    }
                }
            }
        }
        return found ? remote : Double.NaN;
    }

    /** Counter growth {rx, tx} between the samples nearest {@code start} and {@code end}. */
    static long[] delta(List<long[]> rows, long start, long end) {
        if (rows == null || rows.isEmpty()) throw new IllegalArgumentException("bytes.tsv has no samples for a node the case used");
        long[] a = nearest(rows, start), b = nearest(rows, end);
        return new long[] {b[1] - a[1], b[2] - a[2]};
    }

    private static long[] nearest(List<long[]> rows, long t) {
        return rows.stream().min(Comparator.comparingLong(r -> Math.abs(r[0] - t))).orElseThrow();
    }

    /**
     * The model's inputs for a rig case: the product's own parameter count for the model on the rig's input, Adam, 10
     * classes; one GS fit per epoch (the rig's epochs are one fit each).
     */
    static ScalingModel.Inputs inputs(Measured m, InputShape shape) {
        return ScalingReport.inputs(m.model(), shape, 10, "adam", m.batch(), 1, 1, ScalingModel.Costs.DOC)
                .withExamplesPerFit(Math.max(1, Math.round(m.stepsPerEpoch())) * m.workers() * m.batch());
    }

    /**
     * Bytes on the critical path of a step, as the model counts them: PA the driver's link; GS the relay (driver's
     * link), the treeAggregate shuffle (a worker's link) and its last level into the driver, spread over the epoch's
     * iterations. The rig's windows are the fit: WorkerModels' transfers, after it, are in neither its time nor its bytes.
     */
    static double wireBytes(Measured m, ScalingModel.Inputs in) {
        if (m.pa()) return ScalingModel.paWireBytes(in, new ScalingModel.Pa(m.averagingFrequency(), 2), m.workers());
        return ScalingModel.gsRelayWireBytes(in, gs(m), m.workers()) + ScalingModel.gsShuffleBytesPerWorker(in, m.workers())
                + ScalingModel.gsAggregateDriverBytes(in, m.workers()) / in.gsIterationsPerFit(m.workers());
    }

    static double driverBytes(Measured m, ScalingModel.Inputs in) {
        if (m.pa()) return ScalingModel.paDriverBytes(in, new ScalingModel.Pa(m.averagingFrequency(), 2), m.workers());
        double msg = ScalingModel.gsMessageBytes(in.params(), 0);
        return m.workers() * msg + ScalingModel.gsBusiestRelayBytes(m.mesh(), m.workers(), msg)
                + ScalingModel.gsAggregateDriverBytes(in, m.workers()) / in.gsIterationsPerFit(m.workers());
    }

    /**
     * A worker's bytes sent per step as the model counts them. PA: its result (to the driver, or at N >= 6 to a
     * shuffle reducer) and the broadcast blocks it serves to the others ((N - H_N)/N copies). GS: its update up the
     * relay, its share of the shuffle and of the last level's results.
     */
    static double workerTxBytes(Measured m, ScalingModel.Inputs in) {
        int n = m.workers();
        if (m.pa()) return in.paBytesPerWorker() * (1 + Math.max(0, n - ScalingModel.broadcastDriverCopies(n)) / n);
        return ScalingModel.gsMessageBytes(in.params(), 0) + ScalingModel.gsShuffleBytesPerWorker(in, n)
                + ScalingModel.gsAggregateDriverBytes(in, n) / n / in.gsIterationsPerFit(n);
    }

    private static ScalingModel.Gs gs(Measured m) {
        return new ScalingModel.Gs(m.mesh(), 0, true);
    }

    /**
     * Fits on the unshaped cases (T0) and on the shaped cases at {@code fitMbit} (η per transport), predicts the rest.
     * A case family (model, master, mesh) without an unshaped case is left out.
     */
    public static List<Row> fitAndPredict(List<Measured> cases, double fitMbit, InputShape shape) {
        Map<String, Double> t0 = new HashMap<>();
        for (Measured m : cases)
            if (m.mbit() == 0) t0.put(family(m), m.stepSeconds());
        // η per transport: measured wire seconds / modelled wire seconds at full rate, over the fit link's cases.
        Map<Boolean, double[]> eta = new HashMap<>();
        for (Measured m : cases) {
            if (fitMbit == 0 || m.mbit() != fitMbit || !t0.containsKey(family(m))) continue;
            double modelled = wireBytes(m, inputs(m, shape)) * 8 / (m.mbit() * 1e6);
            double measured = m.stepSeconds() - t0.get(family(m));
            eta.computeIfAbsent(m.pa(), k -> new double[2]);
            eta.get(m.pa())[0] += modelled;
            eta.get(m.pa())[1] += Math.max(measured, 1e-9);
        }
        List<Row> rows = new ArrayList<>();
        for (Measured m : cases) {
            if (!t0.containsKey(family(m))) continue;
            ScalingModel.Inputs in = inputs(m, shape);
            double wire = wireBytes(m, in);
            double[] e = eta.get(m.pa());
            double efficiency = e == null ? 1 : e[0] / e[1];
            double seconds = t0.get(family(m)) + (m.mbit() == 0 ? 0 : wire * 8 / (efficiency * m.mbit() * 1e6));
            Measured fit = cases.stream().filter(o -> o.mbit() == fitMbit && family(o).equals(family(m))).findFirst().orElse(null);
            double scaled = m.mbit() == 0 || fit == null || fitMbit == 0 ? Double.NaN
                    : t0.get(family(m)) + (fit.stepSeconds() - t0.get(family(m))) * fitMbit / m.mbit();
            rows.add(new Row(m, m.mbit() == 0 || m.mbit() == fitMbit, seconds, scaled, driverBytes(m, in), workerTxBytes(m, in)));
        }
        return rows;
    }

    /** The link efficiency fitted per transport, for the report. */
    public static double efficiency(List<Row> rows, boolean pa, double fitMbit, InputShape shape) {
        double modelled = 0, measured = 0;
        for (Row r : rows) {
            Measured m = r.m();
            if (m.pa() != pa || m.mbit() != fitMbit) continue;
            modelled += wireBytes(m, inputs(m, shape)) * 8 / (m.mbit() * 1e6);
            double t0 = rows.stream().filter(o -> o.m().mbit() == 0 && family(o.m()).equals(family(m))).findFirst().orElseThrow().m().stepSeconds();
            measured += Math.max(m.stepSeconds() - t0, 1e-9);
        }
        return measured == 0 ? Double.NaN : modelled / measured;
    }

    private static String family(Measured m) {
        return m.model() + "/" + m.option() + "/" + m.workers();
    }

    public static void print(List<Measured> cases, double fitMbit, InputShape shape, PrintStream out) {
        out.println("Measured per step (PA: one averaging round; GS: one iteration), steady epochs (all but the first):");
        out.println("| model | option | link | N | steps | s/step | driver rx MB/step | driver tx MB/step | worker rx MB/step | worker tx MB/step "
                + "| shuffle between executors MB/step (event log) | modelled (uncompressed) | load at start |");
        out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (Measured m : cases) {
            ScalingModel.Inputs in = inputs(m, shape);
            double modelled = m.pa() ? Double.NaN : m.workers() * ScalingModel.gsShuffleBytesPerWorker(in, m.workers());
            out.printf(Locale.ROOT, "| %s | %s | %s | %d | %.0f | %.3f | %.2f | %.2f | %.2f | %.2f | %s | %s | %s |%n", m.model(), m.option(), m.link(),
                    m.workers(), m.steps(), m.stepSeconds(), m.driverRx() / 1e6, m.driverTx() / 1e6, m.workerRx() / 1e6,
                    m.workerTx() / 1e6, Double.isNaN(m.shuffleRemote()) ? "-" : String.format(Locale.ROOT, "%.2f", m.shuffleRemote() / 1e6),
                    Double.isNaN(modelled) ? "-" : String.format(Locale.ROOT, "%.2f", modelled / 1e6), m.load());
        }
        List<Row> rows = fitAndPredict(cases, fitMbit, shape);
        out.println();
        if (fitMbit == 0) out.println("Fitted: T0 per model and option from the unshaped cases only; link efficiency not fitted "
                + "(η = 1: the tc rate as it is), so every shaped case is held out.");
        else out.printf(Locale.ROOT, "Fitted: T0 per model and option from the unshaped cases; link efficiency η at %.0f Mbit: PA %.2f, GS %.2f.%n",
                fitMbit, efficiency(rows, true, fitMbit, shape), efficiency(rows, false, fitMbit, shape));
        out.println("| model | option | link | N | role | s/step measured | model: s/step | error | 1/B scaling: s/step | error | driver MB/step measured (rx+tx) | modelled | error | worker tx MB/step measured | modelled | error |");
        out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        double sum = 0, sumScaled = 0;
        int held = 0, heldScaled = 0;
        for (Row r : rows) {
            Measured m = r.m();
            double driver = m.driverRx() + m.driverTx();
            out.printf(Locale.ROOT, "| %s | %s | %s | %d | %s | %.3f | %.3f | %s | %s | %s | %.2f | %.2f | %+.0f%% | %.2f | %.2f | %+.0f%% |%n", m.model(), m.option(), m.link(),
                    m.workers(), r.fitted() ? "fit" : "**held out**", m.stepSeconds(), r.predictedSeconds(),
                    r.fitted() ? "-" : String.format(Locale.ROOT, "%+.0f%%", 100 * r.error()),
                    Double.isNaN(r.scaledSeconds()) ? "-" : String.format(Locale.ROOT, "%.3f", r.scaledSeconds()),
                    r.fitted() || Double.isNaN(r.scaledSeconds()) ? "-" : String.format(Locale.ROOT, "%+.0f%%", 100 * r.scaledError()),
                    driver / 1e6, r.predictedDriverBytes() / 1e6, 100 * (r.predictedDriverBytes() / driver - 1),
                    m.workerTx() / 1e6, r.predictedWorkerTx() / 1e6, 100 * (r.predictedWorkerTx() / m.workerTx() - 1));
            if (!r.fitted()) {
                sum += Math.abs(r.error());
                held++;
                if (!Double.isNaN(r.scaledSeconds())) {
                    sumScaled += Math.abs(r.scaledError());
                    heldScaled++;
                }
            }
        }
        if (held > 0) out.printf(Locale.ROOT, "Held-out cases: %d; mean absolute error of the step time: model %.0f%%%s.%n", held,
                100 * sum / held, heldScaled == 0 ? "" : String.format(Locale.ROOT, ", 1/B scaling %.0f%%", 100 * sumScaled / heldScaled));
    }
}
