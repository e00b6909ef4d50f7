package io.sparkvision.jobs;

import io.sparkvision.TestSpark;
import io.sparkvision.config.JobConfig;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 26: scripts/sparkvision gives a local run the machine and, when the job's own sizing needs another heap/off-heap
 * split than the default third, starts it again with that split - no flags from the user. ResNet-34 (21.3M
 * parameters, Adam, two workers) needs ~2.2 GiB of driver heap for its parameter-averaging rounds; with
 * SPARKVISION_MEMORY=6g the launcher's default heap is 2 GiB, the budget holds the run. In "full": two driver JVM
 * starts and a ResNet-34 epoch take about a minute on two cores.
 */
@Tag("full")
class LauncherRestartTest {
    @Test
    void aRunThatNeedsAnotherSplitStartsAgainWithIt(@TempDir Path work) throws Exception {
        Path data = work.resolve("data");
        JobConfig ingest = JobConfig.fromString(String.join("\n",
                "ingest { source = \"" + TestSpark.basedir().resolve("src/test/resources/emoji-tiny") + "\", format = image-folder, image-size = 64 }",
                "data.root = \"" + data + "\""));
        try (JavaSparkContext sc = TestSpark.local(2)) {
            IngestJob.run(ingest, sc, new PrintStream(new ByteArrayOutputStream()));
        }
        Path out = work.resolve("run");
        LauncherSizingTest.Run run = LauncherSizingTest.run("restart", Map.of("SPARKVISION_MEMORY", "6g"), "scripts/sparkvision",
                List.of("train", "jobs/mnist-lenet5.conf", "--set", "spark.master=local[2]", "--set", "data.root=" + data,
                        "--set", "data.test-split=val", "--set", "model.name=resnet34", "--set", "output.dir=" + out,
                        "--set", "train.epochs=1", "--set", "train.batch-size-per-worker=4"), work);
        String log = run.log();
        assertEquals(0, run.code(), log);
        assertFalse(log.contains("sizing: this run does not fit"), log);
        Matcher restart = Pattern.compile("starting again with -Xmx(\\d+)m ").matcher(log);
        assertTrue(restart.find(), "no re-start:\n" + log);
        assertFalse(restart.find(), "started again more than once:\n" + log);
        // Two sizing lines: the first JVM's default heap fell short, the second's holds the run.
        Matcher heap = Pattern.compile("sizing: driver ~([\\d.]+) GiB heap \\(has ([\\d.]+) GiB\\)").matcher(log);
        assertTrue(heap.find(), log);
        assertTrue(Double.parseDouble(heap.group(1)) > Double.parseDouble(heap.group(2)), heap.group());
        assertTrue(heap.find(), log);
        assertTrue(Double.parseDouble(heap.group(1)) <= Double.parseDouble(heap.group(2)), heap.group());
        assertTrue(Files.exists(out.resolve("model.zip")), log);
    }
}
