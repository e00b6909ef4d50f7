package io.sparkvision.jobs;

import io.sparkvision.TestSpark;
import io.sparkvision.augment.AugmentSettings;
import io.sparkvision.config.JobConfig;
import io.sparkvision.data.Datasets;
import io.sparkvision.data.ImageDataset;
import io.sparkvision.image.InputShape;
import io.sparkvision.ingest.DatasetDescriptor;
import io.sparkvision.model.Architectures;
import io.sparkvision.model.ModelFiles;
import io.sparkvision.train.CheckpointStore;
import io.sparkvision.train.LearningRates;
import io.sparkvision.util.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.dataset.DataSet;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static io.sparkvision.jobs.StandaloneClusterTest.Result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gradient sharing for the mission's models at 3x224x224 on a standalone cluster (scripts/local-cluster: two worker
 * JVMs on their own loopback addresses, as DL4J's mesh needs), submitted with scripts/submit as a user would, two
 * epochs over the 24 Twemoji training images at batch 2 (12 iterations per executor, 24 in all). Asserts finite
 * parameters that moved, a falling loss on those (repeated) images, a checkpoint that loads, and, from Spark's event
 * log, that the training stage ran on both executors' addresses. Ports and addresses come from system properties so
 * parallel runs on one machine do not collide: sparkvision.test.worker-first-ip (default 2),
 * sparkvision.test.master-port / master-ui-port / gs-port (default: free ports).
 */
@Tag("full")
@Tag("own-jvm")
class BigModelGradientSharingTest {
    private static final InputShape IN = new InputShape(3, 224, 224);
    /** Rows to run: -Dsparkvision.matrix.gs-models=alexnet2012,... (default: -Dsparkvision.matrix.models; "none": none). */
    static final String GS_ROWS = "sparkvision.matrix.gs-models";
    /**
     * Executors' ND4J limits for these rows (the row's executor GiB, for heap and for ND4J): with
     * conf/spark-defaults.conf's 4G/8G an alexnet2012 executor reached 5.9 GB resident (2 GB heap + ~3.5 GB off-heap,
     * against the sizing's 1.4 GiB off-heap estimate) and the kernel's OOM killer ended it on this shared machine;
     * bounded, a shortage is ND4J's own error in the executor's log. The resident-set limit leaves 1.5 GiB above heap and
     * ND4J for Aeron's buffers and the JVM: at heap + ND4J + 0.5 GiB a vgg16 executor (7.0 GB resident) hit it while
     * receiving an update, and JavaCPP's OutOfMemoryError silently ended DL4J's message threads (the update was lost).
     */
    static String executorOptions(int gib) {
        return io.sparkvision.config.SparkContexts.EXECUTOR_FLAGS + " -Dorg.bytedeco.javacpp.maxbytes=" + gib
                + "G -Dorg.bytedeco.javacpp.maxphysicalbytes=" + (2 * gib * 1024 + 1536) + "m";
    }
    @TempDir
    static Path work;
    static Path data, appJar, events;
    static String master;
    static int firstIp, gsPort;
    static DatasetDescriptor descriptor;

    @BeforeAll
    static void startCluster() throws Exception {
        // -Dsparkvision.matrix.gs-models=none (scripts/test --full) leaves this class out before starting a cluster.
        org.junit.jupiter.api.Assumptions.assumeFalse(BigModelMatrixTest.selection(GS_ROWS).equals("none"),
                "gradient-sharing rows not selected (-D" + GS_ROWS + "=none)");
        data = work.resolve("data");
        try (JavaSparkContext sc = TestSpark.local(2)) {
            IngestJob.run(JobConfig.fromString(String.join("\n",
                    "ingest { source = \"" + TestSpark.basedir().resolve("src/test/resources/emoji-tiny") + "\", format = image-folder, image-size = 224 }",
                    "data.root = \"" + data + "\"")), sc, new PrintStream(new ByteArrayOutputStream()));
            descriptor = Datasets.readDescriptor(data.toString(), sc.hadoopConfiguration());
        }
        appJar = work.resolve("sparkvision-app.jar");
        StandaloneClusterTest.jar(TestSpark.basedir().resolve("target/classes"), appJar);
        firstIp = Integer.getInteger("sparkvision.test.worker-first-ip", 2);
        int port = Integer.getInteger("sparkvision.test.master-port", StandaloneClusterTest.freePort());
        int ui = Integer.getInteger("sparkvision.test.master-ui-port", StandaloneClusterTest.freePort());
        gsPort = Integer.getInteger("sparkvision.test.gs-port", StandaloneClusterTest.freePort());
        master = "spark://127.0.0.1:" + port;
        events = Files.createDirectories(work.resolve("events"));
        StandaloneClusterTest.env = List.of("SPARKVISION_CLUSTER_DIR=" + TestSpark.basedir().resolve("target/big-gs-cluster"),
                "SPARKVISION_MASTER_PORT=" + port, "SPARKVISION_MASTER_UI_PORT=" + ui, "SPARKVISION_WORKER_FIRST_IP=" + firstIp,
                "SPARKVISION_WORKER_MEMORY=3584m", "SPARKVISION_APP_JAR=" + appJar, "SPARKVISION_SKIP_BUILD=1",
                // The driver's heap as vgg16's sizing asks (3.0 GiB) and a little more, not scripts/submit's 4g: with
                // two ~7 GB executors beside it, every GB counts on this 24 GB machine.
                "SPARKVISION_DRIVER_XMX=3500m");
        StandaloneClusterTest.work = work;
        Result r = StandaloneClusterTest.run(180, "scripts/local-cluster", "start", "2");
        assertEquals(0, r.code(), r.output());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (StandaloneClusterTest.env != null && data != null) StandaloneClusterTest.run(60, "scripts/local-cluster", "stop");
        StandaloneClusterTest.env = null;
    }

    @ParameterizedTest(name = "{0} ({1}) with gradient sharing, {2} GiB executors")
    // The executor GiB (heap and ND4J) each row's sizing asks for: vgg16's 134M parameters need ~2.3 GiB of heap
    // (two broadcasts held, its parameters serialized twice on their way to the driver) and ~2.9 GiB off-heap.
    // Minutes: alexnet2012 took 15 on the quiet 2-core machine (12 steps per executor; two thirds of the
    // executors' time inside fit calls went to waiting for the other's update); vgg16's steps took
    // 16-78 s of computing each (plus ~50% waiting); the row took 24 min (train job 1,255 s) on 2026-12-02.
    @CsvSource({"alexnet2012, nesterovs, 2, 30", "vgg16, sgd, 3, 60", "resnet50, nesterovs, 2, 30"})
    void trainsOnTwoExecutorsInTheMesh(String model, String updater, int executorGiB, int minutes) throws Exception {
        BigModelMatrixTest.assumeSelected(GS_ROWS, model);
        Path out = work.resolve(model + "-gs");
        Path modelEvents = Files.createDirectories(events.resolve(model));
        Result r = StandaloneClusterTest.run(60 * minutes, "scripts/submit", "train", "jobs/mnist-lenet5.conf", "--master", master,
                "--conf", "spark.executor.memory=" + executorGiB + "g",
                "--conf", "spark.executor.extraJavaOptions=" + executorOptions(executorGiB),
                "--conf", "spark.eventLog.enabled=true",
                "--conf", "spark.eventLog.dir=" + modelEvents.toUri(),
                "--set", "data.root=" + data, "--set", "data.test-split=val", "--set", "output.dir=" + out,
                "--set", "model.name=" + model, "--set", "train.updater=" + updater, "--set", "train.learning-rate=0.001",
                "--set", "train.lr-schedule=constant", "--set", "train.epochs=2", "--set", "train.batch-size-per-worker=2",
                "--set", "train.workers=2", "--set", "eval.batch-size=6", "--set", "checkpoint.every-epochs=1000",
                "--set", "train.master=gradient-sharing", "--set", "train.gradient-sharing.port=" + gsPort,
                // The mesh's root is the driver, which scripts/submit runs on 127.0.0.1 (the workers have their own
                // addresses from 127.0.0.<firstIp> on); naming a worker's address here left the mesh unformed.
                "--set", "train.gradient-sharing.controller-address=127.0.0.1");
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("sizing: ") && r.output().contains("on the mesh"), r.output());
        // Both executors trained in one mesh: each received every update the other sent (one per step, synchronous).
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) StandaloneClusterTest.assertEveryUpdateReceived(line, model);

        Configuration hadoop = new Configuration();
        JobConfig cfg = JobConfig.fromString("train.updater = " + updater + "\ntrain.learning-rate = 0.001");
        Model initial = Architectures.get(model).build(IN, descriptor.classes().size(), cfg.get(io.sparkvision.config.Options.TRAIN_SEED),
                LearningRates.updater(cfg), 0);
        Model trained = ModelFiles.load(new org.apache.hadoop.fs.Path(out.resolve(TrainJob.MODEL).toString()), hadoop);
        BigModelMatrixTest.assertFinite(trained.params(), model);
        assertTrue(trained.params().sub(initial.params()).norm2Number().doubleValue() > 0, model + ": parameters did not move");

        DataSet seen;
        try (JavaSparkContext sc = TestSpark.local(1)) {
            seen = DataSet.merge(ImageDataset.load(sc, data.toString(), descriptor, "train", 1, 8, AugmentSettings.OFF).batches(8).collect());
        }
        double before = BigModelMatrixTest.score(initial, seen), after = BigModelMatrixTest.score(trained, seen);
        assertTrue(Double.isFinite(after) && after < before, model + ": loss on repeated training images " + before + " -> " + after);

        CheckpointStore store = new CheckpointStore(out.resolve("checkpoints").toString(), hadoop, 3, io.sparkvision.config.Choices.Metric.TOP1_ACCURACY);
        assertEquals(trained.params(), store.load(store.latest().orElseThrow()).params());

        Set<String> hosts = trainingHosts(modelEvents);
        assertEquals(Set.of("127.0.0." + firstIp, "127.0.0." + (firstIp + 1)), hosts,
                "the gradient-sharing training stage ran on both executors");
    }

    /** Hosts of successful tasks of the SharedTrainingMaster's training stages, from Spark's event log. */
    static Set<String> trainingHosts(Path eventDir) throws IOException {
        Set<Integer> stages = new HashSet<>();
        Set<String> hosts = new HashSet<>();
        List<Path> logs;
        try (Stream<Path> s = Files.list(eventDir)) {
            logs = s.toList();
        }
        for (Path log : logs) {
            List<String> lines = Files.readAllLines(log);
            for (String line : lines) {
                Map<?, ?> e = Json.read(line, Map.class);
                if ("SparkListenerStageSubmitted".equals(e.get("Event"))) {
                    Map<?, ?> info = (Map<?, ?>) e.get("Stage Info");
                    if (String.valueOf(info.get("Details")).contains("SharedTrainingMaster")) {
                        stages.add(((Number) info.get("Stage ID")).intValue());
                    }
                }
            }
            for (String line : lines) {
                Map<?, ?> e = Json.read(line, Map.class);
                if ("SparkListenerTaskEnd".equals(e.get("Event")) && stages.contains(((Number) e.get("Stage ID")).intValue())
                        && "Success".equals(((Map<?, ?>) e.get("Task End Reason")).get("Reason"))) {
                    hosts.add(String.valueOf(((Map<?, ?>) e.get("Task Info")).get("Host")));
                }
            }
        }
        assertTrue(!stages.isEmpty(), "no SharedTrainingMaster stage in the event log " + logs);
        return hosts;
    }
}
