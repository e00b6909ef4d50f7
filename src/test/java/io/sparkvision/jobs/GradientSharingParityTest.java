package io.sparkvision.jobs;

import io.sparkvision.TestSpark;
import io.sparkvision.ingest.MnistIdxIngest;
import io.sparkvision.jobs.StandaloneClusterTest.Result;
import io.sparkvision.util.Json;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gradient sharing learns as well as parameter averaging: the same job (LeNet-5, 6,000 real MNIST training images,
 * batch 32 per worker, Adam with a cosine schedule, three epochs each) through scripts/submit on a standalone cluster
 * of two executor JVMs (scripts/local-cluster), once per master, with each master's defaults; gradient sharing's test
 * top-1 on MNIST's 10,000 real test images must come within the 1 point of parameter averaging's (or above it), every
 * executor must have received every update of the others, and the two executors must hold the same network
 * ({@code workerSpread} near 0). Ports come from free ports or system properties (sparkvision.test.master-port,
 * master-ui-port, gs-port, worker-first-ip), so parallel runs do not collide.
 */
@Tag("full")
class GradientSharingParityTest {
    /**
     * Top-1 gradient sharing may trail parameter averaging by: the 1 point. Two epochs and 2,000 test images
     * gave gaps from +1.9 to -1.75 over eleven runs (CI failed on -1.45); three epochs and 10,000 test images, measured on
     * this machine: see docs/benchmarks.md and docs/design.md (Gradient sharing: what to expect).
     */
    static final double MAX_GAP = 0.01;
    static final int EPOCHS = 3;
    static final List<String> JOB = List.of("--set", "train.epochs=" + EPOCHS, "--set", "train.batch-size-per-worker=32",
            "--set", "train.workers=2", "--set", "checkpoint.every-epochs=1000", "--set", "eval.batch-size=500",
            "--set", "progress.interval-seconds=1", "--conf", "spark.executor.heartbeatInterval=1s");
    static Result gsRun;
    @TempDir
    static Path work;
    static Path data;
    static String master;
    static int gsPort, firstIp;

    @BeforeAll
    static void startCluster() throws Exception {
        data = work.resolve("data");
        try (JavaSparkContext sc = TestSpark.local(2)) {
            MnistIdxIngest.run(sc, TestSpark.basedir().resolve("src/test/resources/mnist-6k").toString(), data.toString(), 2,
                    new PrintStream(new ByteArrayOutputStream()));
        }
        Path appJar = work.resolve("sparkvision-app.jar");
        StandaloneClusterTest.jar(TestSpark.basedir().resolve("target/classes"), appJar);
        firstIp = Integer.getInteger("sparkvision.test.worker-first-ip", 2);
        int port = Integer.getInteger("sparkvision.test.master-port", StandaloneClusterTest.freePort());
        int ui = Integer.getInteger("sparkvision.test.master-ui-port", StandaloneClusterTest.freePort());
        gsPort = Integer.getInteger("sparkvision.test.gs-port", StandaloneClusterTest.freePort());
        master = "spark://127.0.0.1:" + port;
        StandaloneClusterTest.env = List.of("SPARKVISION_CLUSTER_DIR=" + work.resolve("cluster"),
                "SPARKVISION_MASTER_PORT=" + port, "SPARKVISION_MASTER_UI_PORT=" + ui, "SPARKVISION_WORKER_FIRST_IP=" + firstIp,
                "SPARKVISION_WORKER_MEMORY=1g", "SPARKVISION_APP_JAR=" + appJar, "SPARKVISION_SKIP_BUILD=1",
                "SPARKVISION_DRIVER_XMX=1g");
        StandaloneClusterTest.work = work;
        Result r = StandaloneClusterTest.run(180, "scripts/local-cluster", "start", "2");
        assertEquals(0, r.code(), r.output());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (StandaloneClusterTest.env != null && data != null) StandaloneClusterTest.run(60, "scripts/local-cluster", "stop");
        StandaloneClusterTest.env = null;
    }

    @Test
    void gradientSharingWithinOnePointOfParameterAveraging() throws Exception {
        double pa = top1(train("parameter-averaging"));
        Path gsOut = train("gradient-sharing");
        double gs = top1(gsOut);
        // Everything StandaloneClusterTest checks of a gradient-sharing run (it leaves its own run to this test in --full).
        StandaloneClusterTest.assertGradientSharingRun(gsRun, gsOut, EPOCHS, 6000);
        System.out.printf("top-1: parameter averaging %.4f, gradient sharing %.4f%n", pa, gs);
        // Both learned (an untrained or lone-worker model would not get here), and gradient sharing kept up.
        assertTrue(pa > 0.85, "parameter averaging top-1 " + pa);
        assertTrue(gs >= pa - MAX_GAP, "gradient sharing top-1 " + gs + " vs parameter averaging " + pa);
        for (String line : Files.readAllLines(gsOut.resolve("metrics.jsonl"))) {
            Map<?, ?> sharing = (Map<?, ?>) Json.read(line, Map.class).get("gradientSharing");
            assertEquals(2, ((Number) sharing.get("workerModels")).intValue(), line);
            // Every update reached the other worker (each sends one message per step when synchronous).
            StandaloneClusterTest.assertEveryUpdateReceived(line, "gradient sharing");
            // Every worker applied every update, so both executors hold the same network (DL4J M2 alone: 2-7% apart).
            double spread = ((Number) sharing.get("workerSpread")).doubleValue();
            assertTrue(spread < 1e-3, "executors' networks differ by " + spread + " of their norm: " + line);
        }
    }

    static Path train(String trainingMaster) throws Exception {
        Path out = work.resolve(trainingMaster);
        List<String> cmd = new ArrayList<>(List.of("scripts/submit", "train", "jobs/mnist-lenet5.conf", "--master", master,
                "--executor-memory", "768m", "--conf", "spark.ui.enabled=false", "--set", "data.root=" + data, "--set", "output.dir=" + out,
                "--set", "train.master=" + trainingMaster, "--set", "train.gradient-sharing.port=" + gsPort,
                "--set", "train.gradient-sharing.controller-address=127.0.0.1"));
        cmd.addAll(JOB);
        Result r = StandaloneClusterTest.run(900, cmd.toArray(new String[0]));
        assertEquals(0, r.code(), r.output());
        if (trainingMaster.equals("gradient-sharing")) gsRun = r;
        // The run's own account (epochs, the mesh, what each executor fitted and received) in the test's output.
        r.output().lines().filter(l -> l.startsWith("epoch ") || l.contains("gradient sharing") || l.startsWith("done"))
                .forEach(l -> System.out.println(trainingMaster + " | " + l));
        return out;
    }

    static double top1(Path out) throws Exception {
        return ((Number) Json.read(Files.readString(out.resolve("report.json")), Map.class).get("top1Accuracy")).doubleValue();
    }
}
