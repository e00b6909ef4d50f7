package io.sparkvision.bench;

import io.sparkvision.image.InputShape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bench netrig's reading of a scripts/netrig run (steady epochs, the fit's window in the byte samples, steps per
 * epoch) and its fit-then-predict, on a run written here whose times follow the model exactly with a link efficiency
 * of 0.8: the held-out link must then be predicted exactly. The rig itself (namespaces, tc, a cluster) is
 * NetRigClusterTest's, tagged full.
 */
class NetRigTest {
    static final InputShape MNIST = new InputShape(1, 28, 28);
    static final long T0_MS = 1_796_000_000_000L;

    @TempDir
    Path dir;

    @Test
    void readsStepsAndBytesOfTheSteadyEpochsAndPredictsAHeldOutLinkFromTheFittedOnes() throws IOException {
        ScalingModel.Inputs in = ScalingReport.inputs("mlp", MNIST, 10, "adam", 32, 1, 1, ScalingModel.Costs.DOC);
        double wire = ScalingModel.paWireBytes(in, new ScalingModel.Pa(5, 2), 2); // 2 results in + H_2 = 1.5 broadcast copies out
        assertEquals(3.5 * 12 * 1_863_690, wire, 1e-3);
        StringBuilder bytes = new StringBuilder();
        long clock = T0_MS;
        double[] mbits = {0, 1000, 100};
        for (double mbit : mbits) {
            double round = 2.0 + (mbit == 0 ? 0 : wire * 8 / (0.8 * mbit * 1e6));
            clock = writeCase(mbit, round, clock, bytes);
        }
        Files.writeString(dir.resolve("bytes.tsv"), bytes.toString() + "123\tdrv\t1"); // a row cut short is skipped

        List<NetRig.Measured> cases = NetRig.read(dir);
        assertEquals(3, cases.size());
        NetRig.Measured slow = cases.stream().filter(c -> c.mbit() == 100).findFirst().orElseThrow();
        assertEquals(2, slow.steps(), "epoch 2 only (epoch 1 warms up): 640 examples / 2 workers / 32 = 10 batches = 2 rounds");
        assertEquals(7e6 / 2, slow.driverRx(), 1, "the fit's window: the line's time less the evaluation");
        assertEquals(3e6 / 2, slow.driverTx(), 1);
        assertEquals((5e6 + 9e6) / 2 / 2, slow.workerRx(), 1, "the mean over the workers");
        // The event log's remote shuffle bytes over the whole run (2 epochs of 2 rounds), a line cut short skipped.
        assertEquals(4e6 / 4, slow.shuffleRemote(), 1e-6);
        assertTrue(Double.isNaN(cases.stream().filter(c -> c.mbit() == 0).findFirst().orElseThrow().shuffleRemote()), "no event log: NaN");

        List<NetRig.Row> rows = NetRig.fitAndPredict(cases, 1000, MNIST);
        assertEquals(0.8, NetRig.efficiency(rows, true, 1000, MNIST), 1e-3); // times are written to the ms
        NetRig.Row held = rows.stream().filter(r -> !r.fitted()).findFirst().orElseThrow();
        assertEquals(100, held.m().mbit());
        assertEquals(held.m().stepSeconds(), held.predictedSeconds(), 0.01);
        assertEquals(held.m().stepSeconds(), held.scaledSeconds(), 0.01, "the wire excess scales as 1/B");
        assertEquals(3.5 * 12 * 1_863_690, held.predictedDriverBytes(), 1e-3);
        assertFalse(rows.stream().filter(NetRig.Row::fitted).anyMatch(r -> r.m().mbit() == 100));
    }

    /** One PA case, two epochs of two rounds; the driver's counters move 7 MB in and 3 MB out during epoch 2's fit. */
    private long writeCase(double mbit, double round, long clock, StringBuilder bytes) throws IOException {
        Path c = dir.resolve(String.format(Locale.ROOT, "mlp-pa-%.0f", mbit));
        Files.createDirectories(c);
        Files.writeString(c.resolve("case.properties"), "model=mlp\nmaster=parameter-averaging\nmesh=plain\nmbit=" + mbit
                + "\nworkers=2\nbatch=32\naveragingFrequency=5\nload=1.0 1.0 1.0\n");
        long start1 = clock, end1 = start1 + 30_000, start2 = end1 + 5_000, fitEnd2 = start2 + Math.round(2 * round * 1000);
        String line1 = String.format(Locale.ROOT, "{\"epoch\":1,\"examples\":640,\"learningRate\":0.002,\"epochSeconds\":30,"
                + "\"examplesPerSecond\":1,\"time\":\"%s\",\"fitSeconds\":30,\"sparkJobs\":3}", Instant.ofEpochMilli(end1));
        String line2 = String.format(Locale.ROOT, "{\"epoch\":2,\"examples\":640,\"learningRate\":0.002,\"epochSeconds\":%.3f,"
                        + "\"examplesPerSecond\":1,\"time\":\"%s\",\"fitSeconds\":%.3f,\"sparkJobs\":3,\"evaluationSeconds\":1.0}",
                2 * round + 1, Instant.ofEpochMilli(fitEnd2 + 1000), 2 * round);
        Files.writeString(c.resolve("metrics.jsonl"), line1 + "\n" + line2 + "\n");
        if (mbit == 100) {
            Files.createDirectories(c.resolve("events"));
            String task = "{\"Event\":\"SparkListenerTaskEnd\",\"Stage ID\":3,\"Task Metrics\":{\"Shuffle Read Metrics\":{\"Remote Bytes Read\":%d}}}";
            Files.writeString(c.resolve("events/app-1"), "{\"Event\":\"SparkListenerApplicationStart\"}\n" + String.format(Locale.ROOT, task, 3_000_000)
                    + "\n" + String.format(Locale.ROOT, task, 1_000_000) + "\n{\"Event\":\"SparkListenerTaskEnd\",\"Task Metr");
        }
        // Counters: flat outside epoch 2's fit; during it the driver gets 7 MB and sends 3 MB, w1 gets 5 MB, w2 9 MB.
        for (long t : new long[] {start1, start2 - 500, start2, fitEnd2, fitEnd2 + 1000}) {
            boolean after = t >= fitEnd2;
            bytes.append(t).append("\tdrv\t").append(after ? 107_000_000 : 100_000_000).append('\t').append(after ? 53_000_000 : 50_000_000).append('\n');
            bytes.append(t).append("\tw1\t").append(after ? 5_000_000 : 0).append("\t0\n");
            bytes.append(t).append("\tw2\t").append(after ? 9_000_000 : 0).append("\t0\n");
        }
        assertTrue(fitEnd2 > start2);
        return fitEnd2 + 10_000;
    }
}
