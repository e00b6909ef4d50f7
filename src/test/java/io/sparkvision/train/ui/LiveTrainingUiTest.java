package io.sparkvision.train.ui;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import io.sparkvision.config.SparkContexts;
import io.sparkvision.ingest.MnistIdxIngest;
import io.sparkvision.jobs.TrainJob;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.ui.model.stats.StatsListener;
import org.deeplearning4j.ui.model.storage.sqlite.J7FileStatsStorage;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ui.enabled on a real 2-executor job (Spark local-cluster: two executor JVMs, parameter averaging): while it trains,
 * DL4J's Training UI served by the driver loads in headless Chromium and its score chart has as many points as the
 * iterations the first worker has reported so far (read from the run's stats file before and after the page drew);
 * the job stops the server when it ends; {@code sparkvision ui RUN_DIR} then shows every reported iteration.
 * Gradient sharing's route (the executors post to the driver's receiver) is checked on local[2]: every minibatch
 * the run counted is in the stats file.
 */
class LiveTrainingUiTest {
    /** The chart's points: flot keeps its plot on the element; -2 before jQuery loads, -1 before the chart draws. */
    static final String CHART_POINTS = "(function(){ if (typeof $ === 'undefined') return -2;"
            + " var p = $('#scoreiterchart').data('plot'); return p ? p.getData()[0].data.length : -1; })()";
    static final Pattern URL = Pattern.compile("training UI: (http://\\S+/train/overview)");

    @TempDir
    Path work;

    /** 4.5-6 min on 2 shared cores (a local-cluster, 8 epochs, two Chromium sessions): the full tier. */
    @Test
    @Tag("full")
    void liveChartOfATwoExecutorJobThenTheRunDirectory() throws Exception {
        Assumptions.assumeTrue(HeadlessChromium.available(), "no " + HeadlessChromium.BINARY + " (Debian package chromium; .ci/run installs it)");
        Path data = work.resolve("data");
        Path run = work.resolve("run");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (JavaSparkContext sc = new JavaSparkContext(localCluster())) {
            MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 2, new PrintStream(new ByteArrayOutputStream()));
            long deadline = System.currentTimeMillis() + 90_000;
            while (sc.sc().getExecutorIds().size() < 2 && System.currentTimeMillis() < deadline) Thread.sleep(250);
            assertEquals(2, sc.sc().getExecutorIds().size(), "two executor JVMs");
            JobConfig job = JobConfig.fromString(String.join("\n", "data.root = \"" + data + "\"", "output.dir = \"" + run + "\"",
                    "train { workers = 2, epochs = 8, batch-size-per-worker = 16, averaging-frequency = 4 }",
                    "checkpoint.every-epochs = 1000", "ui.enabled = true"));
            CompletableFuture<Map<String, Object>> training = CompletableFuture.supplyAsync(() -> {
                try {
                    return TrainJob.run(job, sc, new PrintStream(log, true));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            String url = awaitUrl(log, training);
            int port = java.net.URI.create(url).getPort();
            Path stats = run.resolve(TrainingUi.STATS_FILE);
            J7FileStatsStorage file = awaitTwoWorkers(stats, training, log);
            String session = onlySession(file);
            // The UI numbers workers in sorted order; its chart shows worker 0.
            List<String> workers = new ArrayList<>(file.listWorkerIDsForSessionAndType(session, StatsListener.TYPE_ID));
            Collections.sort(workers);
            String first = workers.get(0);
            int before = reported(file, session, first);
            int points;
            try (HeadlessChromium chromium = HeadlessChromium.start(work.resolve("chromium"))) {
                chromium.navigate(url);
                points = awaitChart(chromium);
            }
            int after = reported(file, session, first);
            assertFalse(training.isDone(), "the page was read while the job trained; the log: " + log);
            assertTrue(points > 0 && before <= points && points <= after, "the live chart has " + points + " points; worker "
                    + first + " had reported " + before + " iterations before the page loaded and " + after + " after");
            file.close();
            System.out.printf("live chart: %d points; worker %s had reported %d iterations before the page loaded, %d after%n",
                    points, first, before, after);

            Map<String, Object> report = training.get(600, TimeUnit.SECONDS);
            assertTrue(((Number) report.get("top1Accuracy")).doubleValue() > 0.3, "trained: " + report.get("top1Accuracy"));
            assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close(), "the finished job stopped its UI");
        }

        // The finished run, through `sparkvision ui RUN_DIR`: the chart holds every iteration worker 0 reported.
        J7FileStatsStorage file = new J7FileStatsStorage(run.resolve(TrainingUi.STATS_FILE).toFile());
        String session = onlySession(file);
        List<String> workers = new ArrayList<>(file.listWorkerIDsForSessionAndType(session, StatsListener.TYPE_ID));
        Collections.sort(workers);
        int total = reported(file, session, workers.get(0));
        file.close();
        try (RunViewer viewer = RunViewer.open(run.toString(), new Configuration(), "127.0.0.1", 0);
             HeadlessChromium chromium = HeadlessChromium.start(work.resolve("chromium-after"))) {
            chromium.navigate("http://127.0.0.1:" + viewer.port() + "/train/overview");
            int points = awaitChart(chromium);
            System.out.printf("finished run: %d points, %d iterations reported by worker %s%n", points, total, workers.get(0));
            assertEquals(total, points, "the finished run's chart: one point per reported iteration of worker " + workers.get(0));
            assertTrue(total >= 8 * 500 / 16 / 2, total + " iterations of " + workers.get(0) + " over 8 epochs");
        }
    }

    @Test
    void gradientSharingExecutorsPostEveryIterationToTheDriver() throws Exception {
        Path data = work.resolve("data");
        Path run = work.resolve("gs");
        try (JavaSparkContext sc = TestSpark.local(2)) {
            MnistIdxIngest.run(sc, TestSpark.mnistTiny(), data.toString(), 2, new PrintStream(new ByteArrayOutputStream()));
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            TrainJob.run(JobConfig.fromString(String.join("\n", "data.root = \"" + data + "\"", "output.dir = \"" + run + "\"",
                    "train { master = gradient-sharing, workers = 2, epochs = 2, batch-size-per-worker = 16 }",
                    "checkpoint.every-epochs = 1000", "ui.enabled = true")), sc, new PrintStream(log, true));
            assertTrue(URL.matcher(log.toString()).find(), log.toString());
            List<String> metrics = Files.readAllLines(run.resolve("metrics.jsonl"));
            long iterations = new com.fasterxml.jackson.databind.ObjectMapper().readTree(metrics.get(metrics.size() - 1)).path("iteration").asLong();
            J7FileStatsStorage file = new J7FileStatsStorage(run.resolve(TrainingUi.STATS_FILE).toFile());
            String session = onlySession(file);
            int reported = 0;
            for (String w : file.listWorkerIDsForSessionAndType(session, StatsListener.TYPE_ID)) reported += reported(file, session, w);
            file.close();
            assertTrue(iterations > 0, log.toString());
            assertEquals(iterations, reported, "every minibatch the workers fitted reached the driver's stats file");
        }
        // `sparkvision ui RUN_DIR` on it: listens on 127.0.0.1 only, and (where Chromium is) the chart shows every report.
        try (RunViewer viewer = RunViewer.open(run.toString(), new Configuration(), "127.0.0.1", 0)) {
            String other = nonLoopbackAddress();
            if (other != null) {
                assertThrows(ConnectException.class, () -> new Socket(other, viewer.port()).close(),
                        "the UI must not listen on " + other + " when ui.host is 127.0.0.1");
            }
            if (!HeadlessChromium.available()) return;
            J7FileStatsStorage file = new J7FileStatsStorage(run.resolve(TrainingUi.STATS_FILE).toFile());
            String session = onlySession(file);
            List<String> workers = new ArrayList<>(file.listWorkerIDsForSessionAndType(session, StatsListener.TYPE_ID));
            Collections.sort(workers);
            int total = reported(file, session, workers.get(0));
            file.close();
            try (HeadlessChromium chromium = HeadlessChromium.start(work.resolve("chromium"))) {
                chromium.navigate("http://127.0.0.1:" + viewer.port() + "/train/overview");
                assertEquals(total, awaitChart(chromium), "one point per iteration worker " + workers.get(0) + " reported");
            }
        }
    }

    /** An address of this machine other than loopback, or null. */
    static String nonLoopbackAddress() throws IOException {
        for (java.net.NetworkInterface n : Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
            if (!n.isUp() || n.isLoopback()) continue;
            for (java.net.InetAddress a : Collections.list(n.getInetAddresses())) {
                if (a instanceof java.net.Inet4Address) return a.getHostAddress();
            }
        }
        return null;
    }

    static SparkConf localCluster() throws IOException {
        Path target = TestSpark.basedir().resolve("target");
        Files.createDirectories(target.resolve("spark-home/jars"));
        String cp = target.resolve("classes") + ":" + target.resolve("test-classes") + ":"
                + Files.readString(Paths.get(System.getProperty("test.classpath.file"))).trim();
        SparkConf conf = new SparkConf().setMaster("local-cluster[2,1,1024]").setAppName("sparkvision-live-ui-test")
                .set("spark.executor.extraClassPath", cp)
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.executor.extraJavaOptions", SparkContexts.EXECUTOR_FLAGS
                        + " -Dorg.bytedeco.javacpp.maxbytes=1G -Dorg.bytedeco.javacpp.maxphysicalbytes=2G")
                .set("spark.executorEnv.OMP_NUM_THREADS", "1");
        SparkContexts.applyDefaults(conf);
        return conf;
    }

    static String awaitUrl(ByteArrayOutputStream log, CompletableFuture<?> training) throws Exception {
        long deadline = System.currentTimeMillis() + 180_000;
        while (System.currentTimeMillis() < deadline) {
            Matcher m = URL.matcher(log.toString());
            if (m.find()) return m.group(1);
            if (training.isDone()) training.get();
            Thread.sleep(100);
        }
        throw new AssertionError("the job printed no UI address: " + log);
    }

    /** The run's stats file once both executors' workers have reported a few iterations. */
    static J7FileStatsStorage awaitTwoWorkers(Path stats, CompletableFuture<?> training, ByteArrayOutputStream log) throws Exception {
        long deadline = System.currentTimeMillis() + 300_000;
        while (!Files.exists(stats) && System.currentTimeMillis() < deadline) Thread.sleep(100);
        J7FileStatsStorage file = new J7FileStatsStorage(stats.toFile());
        while (System.currentTimeMillis() < deadline && !training.isDone()) {
            List<String> sessions = file.listSessionIDs();
            if (!sessions.isEmpty()) {
                List<String> workers = file.listWorkerIDsForSessionAndType(sessions.get(0), StatsListener.TYPE_ID);
                if (workers.size() >= 2 && workers.stream().allMatch(w -> reported(file, sessions.get(0), w) >= 4)) return file;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("two workers' statistics never reached " + stats + ": " + log);
    }

    static String onlySession(J7FileStatsStorage file) {
        List<String> sessions = file.listSessionIDs();
        assertEquals(1, sessions.size(), "one training session in the stats file: " + sessions);
        return sessions.get(0);
    }

    static int reported(J7FileStatsStorage file, String session, String worker) {
        long[] times = file.getAllUpdateTimes(session, StatsListener.TYPE_ID, worker);
        return times == null ? 0 : times.length;
    }

    static int awaitChart(HeadlessChromium chromium) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        int points = -3;
        while (System.currentTimeMillis() < deadline) {
            JsonNode v = chromium.evaluate(CHART_POINTS);
            points = v.asInt(-3);
            if (points > 0) return points;
            Thread.sleep(250);
        }
        throw new AssertionError("the score chart never drew (last: " + points + ")");
    }
}
