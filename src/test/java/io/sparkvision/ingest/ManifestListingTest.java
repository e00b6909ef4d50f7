package io.sparkvision.ingest;

import io.sparkvision.SparkActivity;
import io.sparkvision.TestSpark;
import io.sparkvision.config.SparkContexts;
import io.sparkvision.score.ScoreInput;
import io.sparkvision.score.Scorer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A manifest is read by the executors, not the driver: on local-cluster[2,1,...] (two executor JVMs) the driver
 * JVM's counts of parsed manifest rows (ManifestCsv's) and of listed files (Listing's) stay where they were while a
 * manifest is ingested (skips, a full URI and an incremental run included) and while the score job cuts a manifest
 * into units of work; bad rows still fail naming their line. Checked by putting the driver-side reader back once
 * (ShardIngest's manifest branch calling ImageIngest.list, whose reader counts its rows too): "the driver parsed
 * manifest rows itself ==> expected: <0> but was: <10>"; restored, green.
 */
@Tag("full") // a local-cluster of its own, ~2 min: in --full (CI) to keep scripts/test under 20 min; ParallelListingTest proves the same for folders in the default suite
class ManifestListingTest {
    static JavaSparkContext sc;
    static final IngestSettings S = IngestSettings.defaults(16, 3);
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @BeforeAll
    static void startCluster() throws IOException {
        Path target = TestSpark.basedir().resolve("target");
        Files.createDirectories(target.resolve("spark-home/jars"));
        String cp = target.resolve("classes") + ":" + target.resolve("test-classes") + ":"
                + Files.readString(Paths.get(System.getProperty("test.classpath.file"))).trim();
        SparkConf conf = new SparkConf().setMaster("local-cluster[2,1,1024]").setAppName("sparkvision-manifest-listing-test")
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
    void theExecutorsReadResolveAndFindTheManifestsRows(@TempDir Path src, @TempDir Path elsewhere) throws IOException {
        byte[] png = IngestValidationTest.png();
        for (String c : List.of("cat", "dog")) {
            for (int i = 0; i < 3; i++) put(src, "img/" + c + "/" + i + ".png", png);
        }
        put(src, "img/cat/a,b.png", png);
        put(elsewhere, "far.png", png);
        put(src, "_raw/deep/hidden.png", png); // a folder the image-folder listing skips; a manifest may name it
        Files.writeString(src.resolve("labels.csv"), String.join("\n", "path,label,split",
                "img/cat/0.png,cat,train", "img/cat/1.png,cat,train", "img/cat/2.png,cat,val",
                "img/dog/0.png,dog,train", "img/dog/1.png,dog,", "img/dog/2.png,dog,val",
                "\"img/cat/a,b.png\",cat,train", "# a comment", "",
                "img/gone.png,dog,train", elsewhere.resolve("far.png").toUri().toString() + ",dog,train",
                "_raw/deep/hidden.png,cat,train", ""));
        Path out = src.resolve("out");

        long rows = ManifestCsv.dataRowsParsedInThisJvm(), files = Listing.filesListedInThisJvm();
        ImageIngest.Result r;
        List<String> jobs;
        try (SparkActivity watch = SparkActivity.watchJobs(sc)) {
            r = ImageIngest.run(sc, "manifest", src.resolve("labels.csv").toString(), out.toString(), S, "", 0, QUIET);
            jobs = watch.jobDescriptions();
        }
        assertEquals(rows, ManifestCsv.dataRowsParsedInThisJvm(), "the driver parsed manifest rows itself");
        assertEquals(files, Listing.filesListedInThisJvm(), "the driver listed the manifest's folder itself");
        assertTrue(jobs.contains(ManifestListing.JOB_DESCRIPTION), jobs.toString());
        assertEquals(10, r.report().listed(), "every data row");
        assertEquals(9, r.report().ingested());
        assertEquals(1, r.report().skipped());
        IngestReport.Skip gone = r.report().skippedItems().get(0);
        assertTrue(gone.path().endsWith("img/gone.png") && gone.reason().contains("labels.csv line 11")
                && gone.reason().contains("does not exist"), gone.toString());
        // An empty split column takes ingest.default-split (train).
        assertEquals(Map.of("train", 7L, "val", 2L), Map.copyOf(r.descriptor().splits()));
        assertEquals(List.of("cat", "dog"), r.descriptor().classes());

        // Incremental: one more row; the ten already seen are unchanged, still read by the executors only.
        put(src, "img/dog/3.png", png);
        Files.writeString(src.resolve("labels.csv"), "img/dog/3.png,dog,train\n", java.nio.file.StandardOpenOption.APPEND);
        ImageIngest.Result again = ImageIngest.run(sc, "manifest", src.resolve("labels.csv").toString(), out.toString(), S, "", 0, QUIET);
        assertEquals(rows, ManifestCsv.dataRowsParsedInThisJvm(), "the driver parsed manifest rows itself");
        assertEquals(11, again.report().listed());
        assertEquals(10, again.report().unchanged(), "the missing file's row is unchanged too (as on the driver)");
        assertEquals(1, again.report().ingested());
        assertEquals(8L, again.descriptor().splits().get("train"));
    }

    /** The executors' items are the driver-side reader's, row for row: sizes, times, splits by fraction, skips. */
    @Test
    void theItemsAreTheDriverSideReadersItems(@TempDir Path src, @TempDir Path elsewhere) throws IOException {
        byte[] png = IngestValidationTest.png();
        StringBuilder csv = new StringBuilder("path,label,split\n");
        for (int i = 0; i < 40; i++) {
            put(src, "img/" + i + ".png", java.util.Arrays.copyOf(png, png.length + i));
            csv.append("img/").append(i).append(".png,").append(i % 3 == 0 ? "cat" : "dog").append(i % 5 == 0 ? ",val\n" : ",\n");
        }
        put(elsewhere, "far.png", png);
        put(src, ".hidden/h.png", png);
        csv.append(elsewhere.resolve("far.png").toUri()).append(",dog\n").append(elsewhere.resolve("gone.png").toUri())
                .append(",dog\n").append(".hidden/h.png,cat\nnot/there.png,cat,val\n");
        Files.writeString(src.resolve("m.csv"), csv);
        LinkedHashMap<String, Double> fractions = new LinkedHashMap<>();
        fractions.put("train", 0.6);
        fractions.put("test", 0.4);
        IngestSettings s = S.withSplitFractions(SplitFractions.of(fractions));
        org.apache.hadoop.fs.Path m = io.sparkvision.io.HadoopFs.path(src.resolve("m.csv").toString());
        org.apache.hadoop.fs.Path out = io.sparkvision.io.HadoopFs.path(src.resolve("out").toString());

        List<String> driver = new ArrayList<>();
        for (Work.Item it : ImageIngest.list(sc, "manifest", m, out, s, null, null, QUIET)) driver.add(it.toString());
        ParallelListing.Listed l = ManifestListing.list(sc, m, out, s, null, null, QUIET);
        List<String> executors = new ArrayList<>();
        for (org.apache.spark.sql.Row r : l.items().collectAsList()) {
            executors.add(new Work.Item(r.getString(0), r.getLong(1), r.getLong(2), r.getString(3), r.getString(4), null).toString());
        }
        l.items().unpersist();
        driver.sort(null);
        executors.sort(null);
        assertEquals(44, l.count());
        assertEquals(driver, executors);
        assertTrue(driver.stream().anyMatch(x -> x.contains("split=test")) && driver.stream().anyMatch(x -> x.contains("gone.png")
                && x.contains("does not exist")), driver.toString());
    }

    @Test
    void badRowsFoundByTheExecutorsAreNamedByTheirLine(@TempDir Path src) throws IOException {
        put(src, "img/a.png", IngestValidationTest.png());
        Files.writeString(src.resolve("bad.csv"), "path,label\nimg/a.png,cat\nimg/b.png\nimg/c.png,cat,train,extra\n");
        String m = assertThrows(IllegalArgumentException.class, () -> ImageIngest.run(sc, "manifest",
                src.resolve("bad.csv").toString(), src.resolve("out").toString(), S, "", 0, QUIET)).getMessage();
        assertTrue(m.contains("bad.csv line 3: 'img/b.png' is not path,label[,split]"), m);
        assertTrue(m.endsWith("(1 more bad row: " + src.resolve("bad.csv").toUri().toString().replace("file:///", "file:/") + " line 4)"), m);

        Files.writeString(src.resolve("twice.csv"), "img/a.png,cat\nimg/x.png,cat\nimg/a.png,dog\n");
        m = assertThrows(IllegalArgumentException.class, () -> ImageIngest.run(sc, "manifest",
                src.resolve("twice.csv").toString(), src.resolve("out").toString(), S, "", 0, QUIET)).getMessage();
        assertTrue(m.contains("twice.csv line 3: img/a.png is listed twice"), m);

        Files.writeString(src.resolve("label.csv"), "img/a.png,cat\nimg/b.png,a/b\n");
        m = assertThrows(IllegalArgumentException.class, () -> ImageIngest.run(sc, "manifest",
                src.resolve("label.csv").toString(), src.resolve("out").toString(), S, "", 0, QUIET)).getMessage();
        assertTrue(m.contains("label.csv line 2: label 'a/b'") && m.contains("cannot be a folder name"), m);
    }

    @Test
    void theScoreJobCutsAManifestIntoUnitsOnTheExecutors(@TempDir Path src) throws IOException {
        List<String> expected = new ArrayList<>();
        StringBuilder csv = new StringBuilder("\nid,path,label\n");
        for (int i = 0; i < 7; i++) {
            csv.append(i).append(",img/").append(i).append(".png,cat\n");
            expected.add(new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(src.toString()), "img/" + i + ".png").toString());
            if (i == 3) csv.append("   \n");
        }
        csv.append("7,hdfs://nn:8020/x/far.png,dog\n");
        expected.add("hdfs://nn:8020/x/far.png");
        Files.writeString(src.resolve("score.csv"), csv);

        long rows = ManifestCsv.dataRowsParsedInThisJvm();
        ScoreInput.Units units = ScoreInput.units(sc, new org.apache.hadoop.fs.Path(src.resolve("score.csv").toString()), 3);
        assertEquals(3, units.count());
        assertEquals(3, units.rdd().getNumPartitions(), "one task per unit");
        List<Scorer.Unit> got = units.rdd().collect();
        assertEquals(rows, ManifestCsv.dataRowsParsedInThisJvm(), "the driver parsed manifest rows itself");
        assertEquals(List.of(expected.subList(0, 3), expected.subList(3, 6), expected.subList(6, 8)),
                got.stream().map(Scorer.Unit::files).toList(), "the rows in manifest order, three to a unit");

        Files.writeString(src.resolve("short.csv"), "id,label,path\n1,cat\n");
        String m = assertThrows(IllegalArgumentException.class, () -> ScoreInput.units(sc,
                new org.apache.hadoop.fs.Path(src.resolve("short.csv").toString()), 3)).getMessage();
        assertTrue(m.contains("short.csv line 2 has no path column"), m);
    }
}
