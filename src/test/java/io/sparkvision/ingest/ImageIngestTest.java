package io.sparkvision.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkvision.Schemas;
import io.sparkvision.TestSpark;
import io.sparkvision.data.Datasets;
import io.sparkvision.data.StoredImage;
import io.sparkvision.data.StoredSplit;
import io.sparkvision.io.HadoopFs;
import io.sparkvision.util.Json;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same ingest against file://, hdfs:// (MiniDFSCluster) and s3a:// (s3proxy): the real emoji fixture plus a
 * JPEG, a zero-byte file, a non-image, and a .tar.gz with an entry escaping with ../; then a re-run (no-op) and a
 * new dated folder (only it is read). The dataset is the default Parquet-sharded layout.
 */
class ImageIngestTest {
    @TempDir
    static File work;
    static JavaSparkContext sc;
    static final Map<String, Stores.Store> stores = new HashMap<>();
    static final IngestSettings SETTINGS = IngestSettings.defaults(32, 3);

    @BeforeAll
    static void start() {
        sc = TestSpark.local(2);
    }

    @AfterAll
    static void stop() {
        for (Stores.Store s : stores.values()) s.close();
        sc.stop();
    }

    static Stores.Store store(String scheme) throws Exception {
        Stores.Store s = stores.get(scheme);
        if (s != null) return s;
        File dir = new File(work, scheme);
        Files.createDirectories(dir.toPath());
        s = switch (scheme) {
            case "hdfs" -> Stores.hdfs(dir);
            case "s3a" -> Stores.s3(dir);
            default -> Stores.local(dir);
        };
        s.configure(sc.hadoopConfiguration());
        stores.put(scheme, s);
        return s;
    }

    static void putFixture(Stores.Store s, String prefix) throws IOException {
        java.nio.file.Path root = TestSpark.basedir().resolve("src/test/resources/emoji-tiny");
        try (Stream<java.nio.file.Path> files = Files.walk(root)) {
            for (java.nio.file.Path p : files.filter(f -> f.toString().endsWith(".png")).collect(Collectors.toList())) {
                s.put(prefix + root.relativize(p).toString().replace(File.separatorChar, '/'), Files.readAllBytes(p));
            }
        }
    }

    static byte[] tarGz(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(buf))) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                TarArchiveEntry te = new TarArchiveEntry(e.getKey(), true); // preserve ../ as an attacker would
                te.setSize(e.getValue().length);
                tar.putArchiveEntry(te);
                tar.write(e.getValue());
                tar.closeArchiveEntry();
            }
        }
        return buf.toByteArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "hdfs", "s3a"})
    void ingestsRejectsBadItemsAndThenOnlyWhatIsNew(String scheme) throws Exception {
        Stores.Store s = store(scheme);
        String src = s.root() + "/src", out = s.root() + "/out";
        putFixture(s, "src/");
        byte[] fruitPng = Files.readAllBytes(TestSpark.basedir().resolve("src/test/resources/emoji-tiny/train/fruit/lemon.png"));
        s.put("src/train/fruit/photo.jpg", Hostile.encode(Hostile.halves(120, 80, BufferedImage.TYPE_3BYTE_BGR), "jpeg"));
        s.put("src/train/animal/empty.jpg", new byte[0]);
        s.put("src/train/vehicle/notes.txt", "not an image".getBytes());
        Map<String, byte[]> entries = new java.util.LinkedHashMap<>();
        entries.put("fruit/lemon-copy.png", fruitPng);
        entries.put("animal/lemon-as-animal.png", fruitPng);
        entries.put("../../escape.png", fruitPng);
        s.put("src/extra/more.tar.gz", tarGz(entries));

        ByteArrayOutputStream logBuf = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(logBuf, true);
        ImageIngest.Result r = ImageIngest.run(sc, "image-folder", src, out, SETTINGS, "", 2, log);
        DatasetDescriptor d = r.descriptor();
        IngestReport rep = r.report();
        assertEquals(List.of("animal", "fruit", "vehicle"), d.classes());
        assertEquals(24 + 1 + 2, d.count("train"), "fixture + JPEG + two archive entries");
        assertEquals(6, d.count("val"));
        assertEquals(9L + 1, d.classCounts().get("train").get("fruit"));
        assertEquals(3, rep.skipped(), rep.skippedItems().toString());
        assertEquals(rep.read(), rep.ingested() + rep.skipped());
        assertEquals(33 + 3, rep.read());
        Map<String, String> why = rep.skippedItems().stream().collect(Collectors.toMap(
                k -> k.path().substring(k.path().lastIndexOf('/') + 1), IngestReport.Skip::reason));
        assertTrue(why.get("empty.jpg").contains("zero-byte"), why.toString());
        assertTrue(why.get("notes.txt").contains("not an image"), why.toString());
        assertTrue(why.get("escape.png").contains("../"), why.toString());
        assertEquals(3, d.mean().length);
        assertTrue(d.mean()[0] > 0.3 && d.mean()[0] < 1 && d.std()[0] > 0.05, java.util.Arrays.toString(d.mean()));

        org.apache.hadoop.conf.Configuration conf = sc.hadoopConfiguration();
        JsonNode reportJson = Schemas.parse(HadoopFs.readString(new Path(out + "/ingest-report.json"), conf));
        Schemas.assertValid("ingest-report.schema.json", reportJson, "ingest-report.json");
        Schemas.assertValid("dataset-descriptor.schema.json",
                Schemas.parse(HadoopFs.readString(new Path(out + "/dataset.json"), conf)), "dataset.json");
        String logText = logBuf.toString();
        assertFalse(logText.contains(Stores.S3_SECRET) || reportJson.toString().contains(Stores.S3_SECRET));

        // The jobs' one reader of stored images takes the shards: raw uint8, channel-major, at the stored size.
        DatasetDescriptor read = Datasets.readDescriptor(out, conf);
        assertEquals(DatasetStorage.RAW, read.storage().encoding());
        List<StoredImage> train = StoredSplit.read(sc, out, read, "train", 2, 0).collect();
        assertEquals(27, train.size());
        for (StoredImage img : train) {
            assertTrue(img.isRaw(), img.path());
            assertEquals(List.of(3, 32, 32, 3 * 32 * 32), List.of(img.channels(), img.height(), img.width(), img.bytes().length));
        }

        // Same input again: nothing is read or rewritten.
        ImageIngest.Result again = ImageIngest.run(sc, "image-folder", src, out, SETTINGS, "", 2, log);
        assertTrue(again.nothingNew());
        assertEquals(d.contentHash(), again.descriptor().contentHash());

        // A new dated batch: only its one file is read; class ids do not move.
        s.put("src/2026-11-24/train/fruit/lemon-again.png", fruitPng);
        ImageIngest.Result more = ImageIngest.run(sc, "image-folder", src, out, SETTINGS, "", 2, log);
        assertEquals(1, more.report().read());
        assertEquals(1, more.report().ingested());
        assertEquals(rep.listed(), more.report().unchanged());
        assertEquals(28, more.descriptor().count("train"));
        assertEquals(d.classes(), more.descriptor().classes());
        assertTrue(!d.contentHash().equals(more.descriptor().contentHash()));
        DatasetDescriptor now = Datasets.readDescriptor(out, conf);
        assertEquals(2, now.storage().runs().size(), "two committed runs");
        assertEquals(28, StoredSplit.read(sc, out, now, "train", 2, 0).count(), "both runs' shards are read");
        assertEquals(6, StoredSplit.read(sc, out, now, "val", 2, 0).count());
        assertFalse(HadoopFs.exists(new Path(out + "/manifest.csv"), conf), "no per-image manifest in the parquet layout");
    }

    /** Keeps Json on the test classpath honest: sources.jsonl round-trips. */
    static Outcome roundTrip(Outcome o) {
        return Json.read(Json.line(o), Outcome.class);
    }
}
