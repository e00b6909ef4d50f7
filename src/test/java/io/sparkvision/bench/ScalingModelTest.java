package io.sparkvision.bench;

import io.sparkvision.TestSpark;
import io.sparkvision.bench.ScalingModel.Costs;
import io.sparkvision.bench.ScalingModel.Executor;
import io.sparkvision.bench.ScalingModel.Gs;
import io.sparkvision.bench.ScalingModel.Inputs;
import io.sparkvision.bench.ScalingModel.Mesh;
import io.sparkvision.bench.ScalingModel.Pa;
import io.sparkvision.train.sizing.RoundSizing;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scaling model's structure (no Spark): which terms grow with what, as DL4J and Spark move the bytes. */
class ScalingModelTest {
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final long P = 100_000_000L;
    private static final Costs NONE = new Costs(0, 0, 0, 0, 0, 0);

    private static Inputs inputs(Costs costs) {
        return new Inputs("m", P, 2 * P, 16, 10, 1000, costs); // Adam: S = 1.2 GB
    }

    @Test
    void treeAggregateGainsAShuffleLevelFromSixPartitionsAndItsDriverLevelIsTheSizingsOwn() {
        for (int n = 1; n <= 5; n++) assertEquals(List.of(n), ScalingModel.treeFanIns(n, 2), "N=" + n);
        assertEquals(List.of(3, 2), ScalingModel.treeFanIns(6, 2)); // scale 3: 6 > 3 + 2, so 6 -> 2 reducers
        assertEquals(List.of(16, 16), ScalingModel.treeFanIns(256, 2));
        for (int n : new int[] {2, 6, 16, 32, 100, 256})
            for (int depth : new int[] {2, 3}) {
                List<Integer> f = ScalingModel.treeFanIns(n, depth);
                assertEquals(RoundSizing.resultsAtDriver(n, depth), f.get(f.size() - 1), "N=" + n + " depth " + depth);
            }
        assertEquals(6 + 2, ScalingModel.treeTasks(6, 2));
        assertEquals(256 + 16, ScalingModel.treeTasks(256, 2));
    }

    @Test
    void senderSerialisationIsParallelAndReceiverDeserialiseSumIsSerialPerResult() {
        double s = 1.2e9;
        Pa pa = new Pa(5, 2);
        // Only σs: once per tree level (senders in parallel) + once for the broadcast, whatever the fan-in.
        Inputs sender = inputs(new Costs(1e-9, 0, 0, 0, 0, 0));
        assertEquals(8 + s * 1e-9 * (1 + 1), ScalingModel.paRoundSeconds(sender, pa, 4, Executor.CPU, INF), 1e-6);
        assertEquals(8 + s * 1e-9 * (2 + 1), ScalingModel.paRoundSeconds(sender, pa, 256, Executor.CPU, INF), 1e-6);
        // Only σr: once per received result at the busiest receiver of each level + once for the broadcast.
        Inputs receiver = inputs(new Costs(0, 1e-9, 0, 0, 0, 0));
        assertEquals(8 + s * 1e-9 * (4 + 1), ScalingModel.paRoundSeconds(receiver, pa, 4, Executor.CPU, INF), 1e-6);
        assertEquals(8 + s * 1e-9 * (16 + 16 + 1), ScalingModel.paRoundSeconds(receiver, pa, 256, Executor.CPU, INF), 1e-6);
        // The wire: every received result crosses the receiver's link, plus the broadcast's H_N copies out of the driver.
        double h256 = 0;
        for (int j = 1; j <= 256; j++) h256 += 1.0 / j;
        assertEquals(6.1243, h256, 1e-4);
        assertEquals(8 + s * 8 / 10e9 * (16 + 16 + h256), ScalingModel.paRoundSeconds(inputs(NONE), pa, 256, Executor.CPU, 10), 1e-6);
        assertEquals(1.5, ScalingModel.broadcastDriverCopies(2), 1e-12);
        assertEquals((3 + 1 + 0.5 + 1.0 / 3) * s, ScalingModel.paDriverBytes(inputs(NONE), pa, 3), 1e-3);
        // Scheduling: a fixed part plus one driver slot per task, shuffle reducers included.
        Inputs sched = inputs(new Costs(0, 0, 0.5, 0.002, 0, 0));
        assertEquals(8 + 0.5 + 0.002 * (256 + 16), ScalingModel.paRoundSeconds(sched, pa, 256, Executor.CPU, INF), 1e-9);
    }

    @Test
    void gradientSharingMessagesAreEncodingHandlersBitmapOrCappedSparse() {
        assertEquals(4.0 * (P / 16 + 5), ScalingModel.gsMessageBytes(P, 0), 1e-9); // ≈ P/4 bytes, 2 bits per value
        assertEquals(4.0 * (1e-3 * P + 4), ScalingModel.gsMessageBytes(P, 1e-3), 1e-6);
        assertEquals(ScalingModel.gsMessageBytes(P, 0), ScalingModel.gsMessageBytes(P, 0.2), 1e-9); // past P/16 values: bitmap
    }

    @Test
    void plainRelaysEverythingThroughTheDriverAndMeshThroughAnEightAryTree() {
        double m = 1e6;
        for (int n : new int[] {2, 8, 32, 256}) {
            assertEquals((double) n * (n - 1) * m, ScalingModel.gsBusiestRelayBytes(Mesh.PLAIN, n, m), 1e-3, "PLAIN N=" + n);
            assertEquals((double) Math.min(8, n) * (n - 1) * m, ScalingModel.gsBusiestRelayBytes(Mesh.MESH, n, m), 1e-3, "MESH N=" + n);
        }
        assertEquals(2, ScalingModel.gsHops(Mesh.PLAIN, 256));
        assertEquals(2, ScalingModel.gsHops(Mesh.MESH, 8));
        assertEquals(4, ScalingModel.gsHops(Mesh.MESH, 72)); // 8 + 64
        assertEquals(6, ScalingModel.gsHops(Mesh.MESH, 73));
        // The iteration pays the busiest relay's bytes plus the store-and-forward hops, on top of compute (synchronous),
        // and SharedTrainingMaster's Spark side on top of that (gsSparkSecondsPerIteration, checked below).
        Inputs in = inputs(NONE);
        double msg = ScalingModel.gsMessageBytes(P, 0), wire = 8 / 25e9;
        assertEquals((32.0 * 31 * msg + 2 * msg), ScalingModel.gsRelayWireBytes(in, new Gs(Mesh.PLAIN, 0, true), 32), 1e-3);
        assertEquals(1.6 + (32.0 * 31 * msg + 2 * msg) * wire + ScalingModel.gsSparkSecondsPerIteration(in, 32, 25),
                ScalingModel.gsIterationSeconds(in, new Gs(Mesh.PLAIN, 0, true), 32, Executor.CPU, 25), 1e-9);
        assertEquals(1.6 + (8.0 * 31 * msg + 4 * msg) * wire + ScalingModel.gsSparkSecondsPerIteration(in, 32, 25),
                ScalingModel.gsIterationSeconds(in, new Gs(Mesh.MESH, 0, true), 32, Executor.CPU, 25), 1e-9);
        // Asynchronous: communication overlaps compute.
        assertEquals(Math.max(1.6, (8.0 * 31 * msg + 4 * msg) * wire) + ScalingModel.gsSparkSecondsPerIteration(in, 32, 25),
                ScalingModel.gsIterationSeconds(in, new Gs(Mesh.MESH, 0, false), 32, Executor.CPU, 25), 1e-9);
    }

    /**
     * SharedTrainingMaster runs one Spark task per minibatch whose result is the worker's updater state (4U bytes),
     * summed by treeAggregate(depth 4): scripts/netrig's event logs showed 30 tasks -> 10 -> 3 reducers -> the driver
     * for 3 workers x 10 minibatches, and ~4U of shuffle per task. Here N = 2, 10 iterations per fit: 20 tasks, levels
     * 20 -> 6 -> 2, 2 results at the driver; 4U = 0.8 GB, 4P = 0.4 GB.
     */
    @Test
    void everyIterationIsATaskReturningTheUpdaterStateThatTreeAggregateShuffles() {
        assertEquals(List.of(30L, 10L, 10L, 3L), ScalingModel.treeLevels(30, 4).stream().flatMap(l -> java.util.stream.Stream.of(l[0], l[1])).toList());
        assertEquals(3, ScalingModel.gsResultsAtDriver(30));
        assertEquals(List.of(20L, 6L, 6L, 2L), ScalingModel.treeLevels(20, 4).stream().flatMap(l -> java.util.stream.Stream.of(l[0], l[1])).toList());
        Gs gs = new Gs(Mesh.PLAIN, 0, true);
        long perFit = 2 * 16 * 10;
        // σs only: every task serialises its result; per fit each level's outputs (at least one per executor) and the
        // two workers' parameters after the fit.
        Inputs sender = inputs(new Costs(1e-9, 0, 0, 0, 0, 0)).withExamplesPerFit(perFit);
        assertEquals(10, sender.gsIterationsPerFit(2));
        assertEquals(1.6 + 0.8 + (3 * 0.8 + 1 * 0.8 + 2 * 0.4) / 10, ScalingModel.gsIterationSeconds(sender, gs, 2, Executor.CPU, INF), 1e-9);
        // σr only: each level's results spread over the executors (level 1: 10 each; level 2: a reducer's fan-in, 3),
        // the driver's 2 results, the 2 workers' parameters.
        Inputs receiver = inputs(new Costs(0, 1e-9, 0, 0, 0, 0)).withExamplesPerFit(perFit);
        assertEquals(1.6 + (10 * 0.8 + 3 * 0.8 + 2 * 0.8 + 2 * 0.4) / 10, ScalingModel.gsIterationSeconds(receiver, gs, 2, Executor.CPU, INF), 1e-9);
        // Bytes: half of every level's results cross to the other worker; the last level's 2 results reach the driver.
        Inputs bytes = inputs(NONE).withExamplesPerFit(perFit);
        assertEquals((20 + 6) / 2.0 * 0.5 * 0.8e9 / 10, ScalingModel.gsShuffleBytesPerWorker(bytes, 2), 1);
        assertEquals(2 * 0.8e9, ScalingModel.gsAggregateDriverBytes(bytes, 2), 1);
        assertEquals(2 * 0.8e9 + 2 * 0.4e9, ScalingModel.gsFitDriverBytes(bytes, 2), 1);
        // Scheduling: the driver's slot per task, N tasks per iteration, and the fixed part once per fit.
        Inputs sched = inputs(new Costs(0, 0, 0.5, 0.002, 0, 0)).withExamplesPerFit(perFit);
        assertEquals(1.6 + 2 * 0.002 + 0.5 / 10, ScalingModel.gsIterationSeconds(sched, gs, 2, Executor.CPU, INF), 1e-9);
    }

    @Test
    void everyWorkerEncodesOnceAndDecodesAndAppliesTheOtherNMinusOneUpdates() {
        Inputs in = inputs(new Costs(0, 0, 0, 0, 1e-9, 0)); // no serialisation, scheduling or wire: the apply cost alone
        Gs bitmap = new Gs(Mesh.MESH, 0, true), sparse = new Gs(Mesh.MESH, 1e-3, true);
        assertEquals(1.6 + P * 1e-9 * (1 + 31), ScalingModel.gsIterationSeconds(in, bitmap, 32, Executor.CPU, INF), 1e-9);
        assertEquals(1.6 + P * 1e-9 * (1 + 31 * 1e-3), ScalingModel.gsIterationSeconds(in, sparse, 32, Executor.CPU, INF), 1e-9);
    }

    @Test
    void efficiencyNeverRisesWithWorkers() {
        Inputs in = inputs(Costs.DOC);
        for (ScalingModel.Option o : ScalingReport.options(2, 1e-2)) {
            double last = 1 + 1e-12;
            for (int n : new int[] {1, 2, 8, 32, 256}) {
                double eff = ScalingModel.point(in, o, n, Executor.GPU, 25).efficiency();
                assertTrue(eff <= last && eff > 0, o.label() + " at " + n + ": " + eff);
                last = eff + 1e-12;
            }
        }
    }

    /** docs/scaling.md's tables are this code's output: regenerate them with `scripts/sparkvision bench scaling --doc`. */
    @Test
    void theDocumentsTablesAreWhatTheCodePrints() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ScalingReport.printDoc(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String doc = Files.readString(TestSpark.basedir().resolve("docs/scaling.md"));
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("|") || l.contains(": P=")).toList();
        assertTrue(lines.size() > 100, "printed " + lines.size() + " table lines");
        for (String line : lines)
            assertTrue(doc.contains(line), "docs/scaling.md lacks (rerun `bench scaling --doc`): " + line);
    }
}
