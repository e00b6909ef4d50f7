package io.sparkvision.ingest;

import io.sparkvision.SparkActivity;
import io.sparkvision.TestSpark;
import io.sparkvision.config.SparkContexts;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parquet ingest lists a folder tree on the executors, not the driver: on local-cluster[2,1,...] (two executor
 * JVMs) the driver JVM's count of listed files stays where it was while every image is ingested, skips and
 * incremental runs included. The count is Listing's own (every listing in a JVM adds to it). Checked by listing on
 * the driver once (ShardIngest taking the manifest branch, ImageIngest.list, for folders too): "the driver listed
 * source files itself ==> expected: <0> but was: <23>"; restored, green.
 */
class ParallelListingTest {
    static JavaSparkContext sc;
    static final IngestSettings S = IngestSettings.defaults(16, 3);
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @BeforeAll
    static void startCluster() throws IOException {
        Path target = TestSpark.basedir().resolve("target");
        Files.createDirectories(target.resolve("spark-home/jars"));
        String cp = target.resolve("classes") + ":" + target.resolve("test-classes") + ":"
                + Files.readString(Paths.get(System.getProperty("test.classpath.file"))).trim();
        SparkConf conf = new SparkConf().setMaster("local-cluster[2,1,1024]").setAppName("sparkvision-parallel-listing-test")
                .set("spark.executor.extraClassPath", cp).set("spark.driver.host", "127.0.0.1")
                .set("spark.executor.extraJavaOptions", SparkContexts.EXECUTOR_FLAGS);
        SparkContexts.applyDefaults(conf);
        sc = new JavaSparkContext(conf);
    }

    @AfterAll
    static void stop() {
        if (sc != null) sc.stop();
    }

    static void put(Path root, String rel, byte[] b) throws IOException {
        Files.createDirectories(root.resolve(rel).getParent());
        Files.write(root.resolve(rel), b);
    }

    @Test
    void theDriverListsFoldersOnlyAndEveryFileIsIngested(@TempDir Path src) throws IOException {
        byte[] png = IngestValidationTest.png();
        for (String c : List.of("cat", "dog", "fox")) {
            for (int i = 0; i < 5; i++) put(src, "train/" + c + "/" + i + ".png", png);
            put(src, "val/" + c + "/v.png", png);
        }
        put(src, "train/dog/deeper/more/x.png", png);   // below the second level: listed by the class folder's task
        put(src, "train/loose.png", png);               // in a split folder, not a class folder: a skip
        put(src, "notes.png", png);                     // at the root: a skip
        put(src, "train/cat/.hidden.png", png);         // hidden: ignored
        Files.write(src.resolve("train/cat/broken.png"), new byte[] {1, 2, 3}); // undecodable: a skip
        Path out = src.resolve("out");

        long before = Listing.filesListedInThisJvm();
        ImageIngest.Result r;
        List<String> jobs;
        try (SparkActivity watch = SparkActivity.watchJobs(sc)) {
            r = ImageIngest.run(sc, "image-folder", src.toString(), out.toString(), S, "", 0, QUIET);
            jobs = watch.jobDescriptions();
        }
        assertEquals(before, Listing.filesListedInThisJvm(), "the driver listed source files itself");
        assertTrue(jobs.contains(ParallelListing.JOB_DESCRIPTION), jobs.toString());
        assertEquals(22, r.report().listed(), "every visible file, found by the executors");
        assertEquals(19, r.report().ingested());
        assertEquals(3, r.report().skipped(), r.report().skippedItems().toString());
        assertEquals(Map.of("train", 16L, "val", 3L), Map.copyOf(r.descriptor().splits()));
        assertEquals(List.of("cat", "dog", "fox"), r.descriptor().classes());

        // Incremental: one new image; the unchanged 22 are found unchanged by the anti-join, still without a driver listing.
        put(src, "train/fox/new.png", png);
        ImageIngest.Result again = ImageIngest.run(sc, "image-folder", src.toString(), out.toString(), S, "", 0, QUIET);
        assertEquals(before, Listing.filesListedInThisJvm(), "the driver listed source files itself");
        assertEquals(23, again.report().listed());
        assertEquals(22, again.report().unchanged());
        assertEquals(1, again.report().ingested());
        assertEquals(17L, again.descriptor().splits().get("train"));
    }

    @Test
    void theDriverHoldsFolderNamesOfTwoLevelsOnly(@TempDir Path src) throws IOException {
        byte[] png = IngestValidationTest.png();
        put(src, "train/cat/a/b/c.png", png);
        put(src, "train/dog/d.png", png);
        put(src, "val/cat/e.png", png);
        Files.createDirectories(src.resolve("_tmp/x"));
        List<ParallelListing.Folder> folders = ParallelListing.folders(
                org.apache.hadoop.fs.FileSystem.getLocal(sc.hadoopConfiguration()).makeQualified(new org.apache.hadoop.fs.Path(src.toString())),
                "file:/nowhere/", sc.hadoopConfiguration());
        List<String> names = folders.stream().map(f -> src.relativize(Paths.get(java.net.URI.create(f.uri()))) + (f.recursive() ? " r" : "")).toList();
        assertEquals(List.of(" ", "train", "train/cat r", "train/dog r", "val", "val/cat r").stream().map(String::strip).toList(),
                names.stream().map(String::strip).toList());
    }
}
