package io.sparkvision.bench;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scaling model's arithmetic, in memory (no Spark): tree fan-ins, round times, throughput and efficiency. */
class ScalingModelTest {
    // 100M params with Adam (S = 1.2 GB), b=16, f=5, c=0.1 s/example on CPU, 0.004 on GPU, σ = 1 s/GB, e = 0.2 s.
    private final ScalingModel.Inputs in = new ScalingModel.Inputs("m", 100_000_000L, 200_000_000L, 16, 5, 2,
            0.1, 0.004, 1e-9, 0.5, 0.2, 0.01);

    @Test
    void fanInsFollowSparkTreeAggregate() {
        assertEquals(List.of(1), ScalingModel.treeFanIns(1, 2));
        assertEquals(List.of(2), ScalingModel.treeFanIns(2, 2));
        assertEquals(List.of(4), ScalingModel.treeFanIns(4, 2)); // 4 > 2 + 2 is false: all four go to the driver
        assertEquals(List.of(4, 4), ScalingModel.treeFanIns(16, 2));
        assertEquals(List.of(16, 16), ScalingModel.treeFanIns(256, 2));
        assertEquals(List.of(4, 4, 4), ScalingModel.treeFanIns(64, 3));
    }

    @Test
    void parameterAveragingRoundIsComputePlusSerialHops() {
        assertEquals(1_200_000_000L, in.paBytesPerWorker());
        // 2 workers: compute 5*16*0.1 = 8 s; hops 2 (driver fan-in) + 1 (broadcast) = 3; each 1.2 GB * (1 s/GB + 8/10e9 s/B)
        double perHop = 1.2e9 * (1e-9 + 8 / 10e9);
        assertEquals(8 + 3 * perHop + 0.5, ScalingModel.paRoundSeconds(in, 2, ScalingModel.Executor.CPU, 10), 1e-9);
        // No network (one JVM): only serialization
        assertEquals(8 + 3 * 1.2 + 0.5, ScalingModel.paRoundSeconds(in, 2, ScalingModel.Executor.CPU, Double.POSITIVE_INFINITY), 1e-9);
        ScalingModel.Point p = ScalingModel.pa(in, 2, ScalingModel.Executor.CPU, 10);
        double t = 8 + 3 * perHop + 0.5;
        assertEquals(2 * 80 / t, p.examplesPerSecond(), 1e-9);
        assertEquals(8 / t, p.efficiency(), 1e-9);
    }

    @Test
    void gradientSharingIsBoundByComputeOrInboundUpdates() {
        // One worker: compute + overhead; update = 4 * 0.01 * 1e8 + 16 bytes
        assertEquals(4_000_016, in.gsBytesPerUpdate(), 1e-6);
        assertEquals(1.6 + 0.2, ScalingModel.gsIterationSeconds(in, 1, ScalingModel.Executor.CPU, 10), 1e-9);
        // 256 GPU workers on 10 Gbit: 255 updates of 4 MB inbound = 0.816 s > 16 * 0.004 s compute
        double inbound = 255.0 * 4_000_016 * 8 / 10e9;
        double overheadGpu = 0.2 * 0.004 / 0.1;
        assertEquals(inbound + overheadGpu, ScalingModel.gsIterationSeconds(in, 256, ScalingModel.Executor.GPU, 10), 1e-9);
    }

    @Test
    void moreWorkersNeverRaiseEfficiencyAndTableHasEveryCell() {
        double last = 1;
        for (int n : new int[] {1, 2, 8, 32, 256}) {
            double eff = ScalingModel.pa(in, n, ScalingModel.Executor.GPU, 25).efficiency();
            assertTrue(eff <= last + 1e-12 && eff > 0, "efficiency at " + n + ": " + eff);
            last = eff;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ScalingModel.printTable(in, new int[] {1, 256}, new double[] {10, 100}, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String table = bytes.toString(StandardCharsets.UTF_8);
        // 2 executors x 2 networks x 2 masters rows, each with 2 cells
        assertEquals(8, table.lines().filter(l -> l.startsWith("| CPU") || l.startsWith("| GPU")).count(), table);
        assertTrue(table.contains("| GPU  | 100 Gbit | PA     |"), table);
    }
}
